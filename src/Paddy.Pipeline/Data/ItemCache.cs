using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Paddy.Pipeline.Data;

/// <summary>Decoded 8-bit RGB pixels, row-major height x width x 3 (the layout ImageSharp's Rgb24 rows have).</summary>
public sealed class RgbPixels(int width, int height, byte[] bytes)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public byte[] Bytes { get; } = bytes;

    public static RgbPixels From(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return new RgbPixels(image.Width, image.Height, bytes);
    }

    public Image<Rgb24> ToImage() => Image.LoadPixelData<Rgb24>(Bytes, Width, Height);
}

/// <summary>
/// In-memory cache of decoded or item-transformed images, shared by the loaders of one run, bounded by a byte
/// budget (entries beyond it are simply recomputed). What goes in is decided by <see cref="ImageLoader"/>: the final
/// item-transformed image whenever it does not depend on train-time randomness (squish; crop where the region is
/// the whole image; centred crops for valid/test), else the decoded image, so a random crop costs a resize but no
/// decode. Sizes, measured as width*height*3 bytes: Paddy's 10,407 images at 480x640 (crop (640,480) keeps
/// the 10,403 portrait images whole) take 10,407 x 921,600 B = 9.6 GB; squished to 480x480, 7.2 GB; at 224x224,
/// 1.6 GB. The default budget of 12 GiB holds the largest of these; a smaller machine sets a smaller one and pays
/// a decode for what does not fit.
/// </summary>
public sealed class ItemCache(long budgetBytes = ItemCache.DefaultBudgetBytes)
{
    public const long DefaultBudgetBytes = 12L << 30;

    private readonly ConcurrentDictionary<string, RgbPixels> entries = new(StringComparer.Ordinal);
    private long bytes;

    public long BudgetBytes { get; } = budgetBytes;
    public long Bytes => Interlocked.Read(ref bytes);
    public int Count => entries.Count;

    public bool TryGet(string key, out RgbPixels pixels) => entries.TryGetValue(key, out pixels!);

    /// <summary>Stores the pixels when the budget allows; returns them either way.</summary>
    public RgbPixels Add(string key, RgbPixels pixels)
    {
        var size = pixels.Bytes.LongLength;
        if (Interlocked.Add(ref bytes, size) > BudgetBytes || !entries.TryAdd(key, pixels))
            Interlocked.Add(ref bytes, -size);
        return pixels;
    }
}
