using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Data;

public class ImageLoaderTests
{
    private static readonly ItemResize Squish = new(new ImageSize(24, 16), ResizeMethod.Squish);

    private static (TempFolder Folder, List<LabelledImage> Items) Images(int count)
    {
        var folder = new TempFolder();
        // Label = index, so a batch's targets show which items it holds and in what order.
        var items = Enumerable.Range(0, count)
            .Select(i => new LabelledImage(Path.GetFileName(folder.WriteJpeg($"{i}.jpg", 32, 40, seed: i)), i))
            .ToList();
        return (folder, items);
    }

    private static ImageLoader Loader(TempFolder folder, List<LabelledImage> items, LoaderKind kind, ItemCache? cache = null,
        ItemResize? resize = null, int batchSize = 4) =>
        new(folder.Root, items, kind,
            new LoaderSettings(resize ?? Squish, new BatchAugmentation(new ImageSize(16, 16), Normalization.ImageNet), batchSize, 11, CPU),
            cache ?? new ItemCache(), new ImageDecoder());

    private static List<(long[] Targets, float[] Pixels)> Run(IBatchLoader loader, int epoch) =>
        loader.Epoch(epoch).Select(b =>
        {
            using (b) return (b.Targets.data<long>().ToArray(), b.Images.data<float>().ToArray());
        }).ToList();

    [Fact]
    public void Train_is_shuffled_per_epoch_drops_the_last_batch_and_replays_exactly()
    {
        var (folder, items) = Images(10);
        using var _ = folder;
        var loader = Loader(folder, items, LoaderKind.Train);
        Assert.Equal(2, loader.BatchesPerEpoch);

        var epoch0 = Run(loader, 0);
        Assert.Equal(2, epoch0.Count);
        foreach (var batch in loader.Epoch(0).Take(1))
            using (batch)
            {
                Assert.Equal([4L, 3, 16, 16], batch.Images.shape);
                Assert.Equal(ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(ScalarType.Int64, batch.Targets.dtype);
            }
        var seen = epoch0.SelectMany(b => b.Targets).ToList();
        Assert.Equal(8, seen.Distinct().Count());

        var replay = Run(Loader(folder, items, LoaderKind.Train), 0);
        Assert.Equal(epoch0.Select(b => b.Targets), replay.Select(b => b.Targets));
        Assert.Equal(epoch0.Select(b => b.Pixels), replay.Select(b => b.Pixels));
        var epoch1 = Run(loader, 1);
        Assert.NotEqual(seen, epoch1.SelectMany(b => b.Targets));
    }

    [Fact]
    public void Valid_is_in_order_keeps_the_partial_batch_and_matches_decode_resize_centre_crop()
    {
        var (folder, items) = Images(6);
        using var _ = folder;
        var loader = Loader(folder, items, LoaderKind.Valid);
        var batches = Run(loader, 0);
        Assert.Equal([[0L, 1, 2, 3], [4L, 5]], batches.Select(b => b.Targets));

        // Independent path: decode, squish to 24x16, centre 16x16 square = rows 4..19, normalise.
        using var decoded = new ImageDecoder().DecodeRgb(folder.PathOf("5.jpg"));
        using var squished = Squish.Apply(decoded, 0.5, 0.5);
        var pixels = RgbPixels.From(squished);
        using var hwc = tensor(pixels.Bytes, [24, 16, 3]);
        using var mean = tensor(Normalization.ImageNet.Mean).view(3, 1, 1);
        using var std = tensor(Normalization.ImageNet.Std).view(3, 1, 1);
        using var expected = (hwc.permute(2, 0, 1).slice(1, 4, 20, 1).to_type(ScalarType.Float32) / 255 - mean) / std;
        using var actual = tensor(batches[1].Pixels, [2, 3, 16, 16])[1];
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Test_with_train_transforms_is_in_order_and_each_pass_differs()
    {
        var (folder, items) = Images(5);
        using var _ = folder;
        var loader = Loader(folder, ImageLoader.Unlabelled(items.Select(i => i.RelativePath)).ToList(), LoaderKind.TestWithTrainTransforms);
        var pass0 = Run(loader, 0);
        Assert.Equal([[-1L, -1, -1, -1], [-1L]], pass0.Select(b => b.Targets));
        Assert.Equal(pass0.Select(b => b.Pixels), Run(loader, 0).Select(b => b.Pixels));
        Assert.NotEqual(pass0.Select(b => b.Pixels), Run(loader, 1).Select(b => b.Pixels));
    }

    [Fact]
    public void Cache_keeps_deterministic_results_and_decoded_images_for_random_crops()
    {
        var (folder, items) = Images(4);
        using var _ = folder;
        var squishCache = new ItemCache();
        Run(Loader(folder, items, LoaderKind.Train, squishCache), 0);
        Assert.Equal(4, squishCache.Count);
        Assert.Equal(4L * 24 * 16 * 3, squishCache.Bytes);

        // 32 wide x 40 high cropped to 24x24: the region is random, so the 32x40 decoded image is what is kept.
        var cropCache = new ItemCache();
        var crop = new ItemResize(new ImageSize(24, 24), ResizeMethod.Crop);
        Run(Loader(folder, items, LoaderKind.Train, cropCache, crop), 0);
        Assert.Equal(4L * 32 * 40 * 3, cropCache.Bytes);

        var tiny = new ItemCache(budgetBytes: 24 * 16 * 3);
        Run(Loader(folder, items, LoaderKind.Valid, tiny), 0);
        Assert.Equal(1, tiny.Count);
    }

    [Fact]
    public void A_bad_file_met_while_loading_surfaces_naming_the_file()
    {
        var (folder, items) = Images(4);
        using var _ = folder;
        folder.WriteText("2.jpg", "not a jpeg");
        var error = Assert.Throws<BadImageException>(() => Run(Loader(folder, items, LoaderKind.Valid), 0));
        Assert.EndsWith("2.jpg", error.Path);
    }
}
