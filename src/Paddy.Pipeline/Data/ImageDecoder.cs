using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace Paddy.Pipeline.Data;

/// <summary>
/// The one place that turns an image file into RGB pixels, as fastai's PILImage.create does:
/// <c>Image.open(fn).convert('RGB')</c>. fastai's load_image (vision/core.py) opens, loads and converts and never
/// calls ImageOps.exif_transpose, so EXIF orientation is deliberately NOT applied here either: a rotated phone
/// photo reaches the model in its stored orientation, exactly as it does in fastai.
/// </summary>
public sealed class ImageDecoder
{
    /// <param name="maxPixels">Images whose header declares more pixels than this are refused before decoding
    /// (decompression bombs); 50 megapixels by default, far above Paddy's 0.3.</param>
    public ImageDecoder(long maxPixels = 50_000_000)
    {
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), "The pixel limit must be positive.");
        MaxPixels = maxPixels;
        configuration = Configuration.Default.Clone();
        // Animated and multi-page files: like PIL, only the first frame is ever looked at.
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance,
            new GifDecoder { DecodingMode = FrameDecodingMode.First, MaxFrames = 1 });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
    }

    private readonly Configuration configuration;

    public long MaxPixels { get; }

    /// <summary>Decodes a file to 8-bit RGB; throws <see cref="BadImageException"/> naming the file and the reason.</summary>
    public Image<Rgb24> DecodeRgb(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var problem = FindHeaderProblem(bytes, out var info, out var format);
        if (problem is not null) throw new BadImageException(path, problem);
        try
        {
            return DecodeChecked(bytes, info!, format!);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            throw new BadImageException(path, $"corrupt image data ({e.Message})");
        }
    }

    /// <summary>Everything that would stop <see cref="DecodeRgb"/> from returning a complete image, or null when none.</summary>
    public string? FindProblem(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { return $"cannot be read ({e.Message})"; }
        var problem = FindHeaderProblem(bytes, out var info, out var format);
        if (problem is not null) return problem;
        try
        {
            DecodeChecked(bytes, info!, format!).Dispose();
            return null;
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return $"corrupt image data ({e.Message})";
        }
    }

    private string? FindHeaderProblem(byte[] bytes, out IImageInfo? info, out IImageFormat? format)
    {
        info = null;
        format = null;
        if (bytes.Length == 0) return "empty file (0 bytes)";
        try
        {
            info = Image.Identify(configuration, bytes, out format);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return $"unreadable image header ({e.Message})";
        }
        if (info is null || format is null) return "not an image (no known image format)";
        var pixels = (long)info.Width * info.Height;
        if (pixels > MaxPixels)
            return $"{info.Width} x {info.Height} = {pixels:N0} pixels exceeds the limit of {MaxPixels:N0} (a decompression bomb or an oversized image); raise the limit if it is genuine";
        if (format is JpegFormat && !EndsWithJpegEndMarker(bytes))
            return "truncated JPEG (no end-of-image marker); PIL refuses to load it";
        return null;
    }

    // ImageSharp decodes truncated JPEGs silently (grey bottom rows); PIL raises "image file is truncated".
    // An end-of-image marker FF D9 can only appear as a marker (entropy data stuffs FF with 00), so looking for it
    // near the end, allowing some trailing padding as PIL does, detects truncation.
    private static bool EndsWithJpegEndMarker(byte[] bytes)
    {
        var start = Math.Max(0, bytes.Length - 1024);
        for (var i = bytes.Length - 2; i >= start; i--)
            if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return true;
        return false;
    }

    private Image<Rgb24> DecodeChecked(byte[] bytes, IImageInfo info, IImageFormat format)
    {
        if (format is PngFormat && info.Metadata.GetPngMetadata() is { BitDepth: PngBitDepth.Bit16 } png)
            return DecodeSixteenBitPng(bytes, png.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha);
        // Rgb24 conversion keeps R, G and B and drops alpha without compositing, as PIL's convert('RGB') does;
        // grey and palette images expand to R = G = B / the palette colour.
        return Image.Load<Rgb24>(configuration, bytes);
    }

    // PIL reads 16-bit colour PNGs keeping the high byte of each sample, and 16-bit greyscale as mode I;16 whose
    // convert('RGB') clips the 16-bit value to 255 (not scaled). ImageSharp would round-scale both; we copy PIL.
    private Image<Rgb24> DecodeSixteenBitPng(byte[] bytes, bool greyscale)
    {
        using var wide = Image.Load<Rgba64>(configuration, bytes);
        var rgb = new Image<Rgb24>(configuration, wide.Width, wide.Height);
        wide.ProcessPixelRows(rgb, (source, target) =>
        {
            for (var y = 0; y < source.Height; y++)
            {
                var from = source.GetRowSpan(y);
                var to = target.GetRowSpan(y);
                for (var x = 0; x < from.Length; x++)
                {
                    var p = from[x];
                    to[x] = greyscale
                        ? new Rgb24(ClipToByte(p.R), ClipToByte(p.R), ClipToByte(p.R))
                        : new Rgb24((byte)(p.R >> 8), (byte)(p.G >> 8), (byte)(p.B >> 8));
                }
            }
        });
        return rgb;
    }

    private static byte ClipToByte(ushort value) => value > 255 ? (byte)255 : (byte)value;
}

/// <summary>An image file that cannot be used; the message names the file and why.</summary>
public sealed class BadImageException(string path, string reason)
    : Exception($"{path}: {reason}. Fix or remove the file, or set skipBadImages to leave it out.")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}
