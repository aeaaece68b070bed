using Paddy.Pipeline.Config;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

public enum LoaderKind
{
    /// <summary>Shuffled per (seed, epoch), last partial batch dropped, random crop and batch augmentation.</summary>
    Train,
    /// <summary>In order, every item, centred crop, no augmentation (validation, and TTA's plain pass).</summary>
    Valid,
    /// <summary>In order, every item, with the training transforms; the epoch number is the TTA pass.</summary>
    TestWithTrainTransforms,
}

/// <summary>How a loader turns files into batches: item transform, batch transform, batch size and device.</summary>
public sealed record LoaderSettings(ItemResize ItemResize, BatchAugmentation Augmentation, int BatchSize, int Seed, TorchSharp.torch.Device Device)
{
    /// <summary>Batches decoded ahead of the one the model is computing.</summary>
    public int PrefetchBatches { get; init; } = 3;
    public int DecodeThreads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Batches of images from files: decoding and the item transform run on all cores and are prefetched through a
/// bounded queue while the model computes; the batch transform runs on the device. Every random choice is a
/// function of (seed, kind, epoch, position), see <see cref="LoaderSeeds"/>. Test items carry target -1.
/// </summary>
public sealed class ImageLoader : IBatchLoader
{
    private readonly string root;
    private readonly IReadOnlyList<LabelledImage> items;
    private readonly LoaderKind kind;
    private readonly LoaderSettings settings;
    private readonly ItemCache cache;
    private readonly ImageDecoder decoder;

    public ImageLoader(string root, IReadOnlyList<LabelledImage> items, LoaderKind kind, LoaderSettings settings,
        ItemCache cache, ImageDecoder decoder)
    {
        if (settings.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(settings), "The batch size must be positive.");
        this.root = root;
        this.items = items;
        this.kind = kind;
        this.settings = settings;
        this.cache = cache;
        this.decoder = decoder;
    }

    /// <summary>Unlabelled test images as loader items (target -1).</summary>
    public static IReadOnlyList<LabelledImage> Unlabelled(IEnumerable<string> relativePaths) =>
        relativePaths.Select(p => new LabelledImage(p, -1)).ToList();

    public int ItemCount => items.Count;
    public int BatchSize => settings.BatchSize;
    public int BatchesPerEpoch => kind == LoaderKind.Train
        ? items.Count / BatchSize
        : (items.Count + BatchSize - 1) / BatchSize;

    // Valid draws nothing; the other two kinds never share draws.
    private LoaderStream Stream => kind == LoaderKind.TestWithTrainTransforms ? LoaderStream.TestTimeAugmentation : LoaderStream.Training;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = ItemOrder(epoch);
        var channel = Channel.CreateBounded<HostBatch>(new BoundedChannelOptions(settings.PrefetchBatches)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var cancellation = new CancellationTokenSource();
        var producer = Task.Run(() => Produce(order, epoch, channel.Writer, cancellation.Token));
        try
        {
            for (var b = 0; b < BatchesPerEpoch; b++)
                yield return ToDevice(Read(channel.Reader), epoch, b);
        }
        finally
        {
            cancellation.Cancel();
            producer.Wait();
        }
    }

    private int[] ItemOrder(int epoch)
    {
        var order = Enumerable.Range(0, items.Count).ToArray();
        if (kind == LoaderKind.Train) new Random(LoaderSeeds.Derive(settings.Seed, Stream, epoch, -1)).Shuffle(order);
        return order;
    }

    private sealed record HostBatch(byte[] Pixels, long[] Targets);

    private async Task Produce(int[] order, int epoch, ChannelWriter<HostBatch> writer, CancellationToken token)
    {
        try
        {
            var size = settings.ItemResize.Size;
            var itemBytes = size.Height * size.Width * 3;
            var options = new ParallelOptions { MaxDegreeOfParallelism = settings.DecodeThreads, CancellationToken = token };
            for (var b = 0; b < BatchesPerEpoch; b++)
            {
                var members = order.Skip(b * BatchSize).Take(BatchSize).ToArray();
                var pixels = new byte[members.Length * itemBytes];
                Parallel.For(0, members.Length, options, i =>
                    ItemPixels(members[i], epoch).Bytes.CopyTo(pixels.AsSpan(i * itemBytes, itemBytes)));
                var targets = members.Select(i => (long)items[i].Label).ToArray();
                await writer.WriteAsync(new HostBatch(pixels, targets), token);
            }
            writer.Complete();
        }
        catch (Exception e)
        {
            // The consumer rethrows this; a bad file surfaces as itself, not wrapped by Parallel.For.
            writer.Complete(e is AggregateException { InnerExceptions.Count: 1 } wrapped ? wrapped.InnerException! : e);
        }
    }

    private static HostBatch Read(ChannelReader<HostBatch> reader)
    {
        try
        {
            return reader.ReadAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException e) when (e.InnerException is { } producerError)
        {
            ExceptionDispatchInfo.Throw(producerError);
            throw;
        }
    }

    private Batch ToDevice(HostBatch host, int epoch, int batchIndex)
    {
        using var scope = NewDisposeScope();
        var size = settings.ItemResize.Size;
        var hwc = tensor(host.Pixels, [host.Targets.Length, size.Height, size.Width, 3]);
        var images = HostToDevice.Transfer(hwc, settings.Device).permute(0, 3, 1, 2);
        var augmented = kind == LoaderKind.Valid
            ? settings.Augmentation.Valid(images)
            : settings.Augmentation.Train(images, new Random(LoaderSeeds.Derive(settings.Seed, Stream, epoch, batchIndex)));
        var targets = HostToDevice.Transfer(tensor(host.Targets), settings.Device);
        return new Batch(augmented.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One item after decoding and the item transform, from the cache when the result does not depend on the epoch.
    /// Train-time random crops are the only epoch-dependent results; for them the decoded image is cached instead.
    /// </summary>
    private RgbPixels ItemPixels(int index, int epoch)
    {
        var path = items[index].RelativePath;
        var resize = settings.ItemResize;
        var wholeKey = $"{path}|{resize.Size}|{resize.Method}";
        if (cache.TryGet(wholeKey, out var whole)) return whole;
        var randomCrop = kind != LoaderKind.Valid;
        var centreKey = wholeKey + "|centre";
        if (!randomCrop && cache.TryGet(centreKey, out var centred)) return centred;

        var decodedKey = $"{path}|decoded";
        var decoded = cache.TryGet(decodedKey, out var d) ? d : null;
        using var image = decoded?.ToImage() ?? decoder.DecodeRgb(Path.Combine(root, path));
        if (!resize.IsRandomFor(image.Width, image.Height)) return cache.Add(wholeKey, Transform(image, 0.5, 0.5));
        if (!randomCrop) return cache.Add(centreKey, Transform(image, 0.5, 0.5));
        if (decoded is null) cache.Add(decodedKey, RgbPixels.From(image));
        var random = new Random(LoaderSeeds.Derive(settings.Seed, Stream, epoch, -2 - index));
        var columnPct = random.NextDouble();
        var rowPct = random.NextDouble();
        return Transform(image, columnPct, rowPct);
    }

    private RgbPixels Transform(Image<Rgb24> image, double columnPct, double rowPct)
    {
        using var resized = settings.ItemResize.Apply(image, columnPct, rowPct);
        return RgbPixels.From(resized);
    }
}
