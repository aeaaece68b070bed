using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Data;

/// <summary>The repository's demo data (samples/fashion-mnist, 28x28 greyscale PNGs in Paddy's layout) end to end.</summary>
public class SampleDatasetTests
{
    private static string SampleRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Paddy.Pipeline.sln"))) folder = folder.Parent;
        Assert.NotNull(folder);
        return Path.Combine(folder.FullName, "samples", "fashion-mnist");
    }

    [Fact]
    public void Demo_data_reads_scans_clean_and_loads()
    {
        var dataset = ImageDataset.Read(SampleRoot());
        Assert.Equal(10, dataset.Vocab.Count);
        Assert.Equal(4000, dataset.TrainItems.Count);
        Assert.Equal(300, dataset.TestItems.Count);
        Assert.Equal("test_images/200001.png", dataset.TestItems[0]);
        Assert.Empty(dataset.Warnings);

        var paths = dataset.TrainItems.Select(i => i.RelativePath).Concat(dataset.TestItems);
        Assert.Empty(BadImageScan.Scan(dataset.Root, BadImageScan.Stamp(dataset.Root, paths), new ImageDecoder()));

        var (_, valid) = RandomSplit.Split(dataset.TrainItems.Count, 0.2, seed: 1);
        var settings = new LoaderSettings(new ItemResize(new ImageSize(32, 32), ResizeMethod.Squish),
            new BatchAugmentation(new ImageSize(32, 32), Normalization.ImageNet), 64, 1, CPU);
        var loader = new ImageLoader(dataset.Root, valid.Select(i => dataset.TrainItems[i]).ToList(), LoaderKind.Valid,
            settings, new ItemCache(), new ImageDecoder());
        using var first = loader.Epoch(0).First();
        Assert.Equal([64L, 3, 32, 32], first.Images.shape);
        // Greyscale decodes to R = G = B, so the unnormalised channels agree.
        using var mean = tensor(Normalization.ImageNet.Mean).view(1, 3, 1, 1);
        using var std = tensor(Normalization.ImageNet.Std).view(1, 3, 1, 1);
        using var raw = first.Images * std + mean;
        Assert.True(raw[.., 0].allclose(raw[.., 2], rtol: 0, atol: 1e-5));
    }
}
