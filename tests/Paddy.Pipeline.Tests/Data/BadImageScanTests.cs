using Paddy.Pipeline.Data;

namespace Paddy.Pipeline.Tests.Data;

public class BadImageScanTests
{
    private static TempFolder DatasetWithBadImages()
    {
        var folder = new TempFolder();
        folder.WriteJpeg("train_images/blast/good.jpg", 32, 40, seed: 1);
        folder.WriteBytes("train_images/blast/empty.jpg", []);
        folder.WriteText("train_images/normal/text.jpg", "this is not an image");
        var whole = File.ReadAllBytes(folder.WriteJpeg("train_images/normal/whole.jpg", 64, 64, seed: 2));
        folder.WriteBytes("train_images/normal/truncated.jpg", whole[..(whole.Length / 2)]);
        File.Delete(folder.PathOf("train_images/normal/whole.jpg"));
        folder.WriteBytes("test_images/bomb.png", ImageDecoderTests.PngHeaderOnly(100_000, 100_000));
        folder.WriteJpeg("test_images/fine.jpg", 20, 20, seed: 3);
        return folder;
    }

    [Fact]
    public void Scan_finds_each_kind_of_bad_image_with_its_reason()
    {
        using var folder = DatasetWithBadImages();
        var dataset = ImageDataset.Read(folder.Root);
        var paths = dataset.TrainItems.Select(i => i.RelativePath).Concat(dataset.TestItems);
        var bad = BadImageScan.Scan(folder.Root, BadImageScan.Stamp(folder.Root, paths), new ImageDecoder())
            .ToDictionary(b => b.RelativePath, b => b.Reason);

        Assert.Equal(4, bad.Count);
        Assert.Contains("empty file", bad["train_images/blast/empty.jpg"]);
        Assert.Contains("not an image", bad["train_images/normal/text.jpg"]);
        Assert.Contains("truncated JPEG", bad["train_images/normal/truncated.jpg"]);
        Assert.Contains("exceeds the limit", bad["test_images/bomb.png"]);
    }

    [Fact]
    public void Decoding_a_bad_image_names_the_file()
    {
        using var folder = DatasetWithBadImages();
        var path = folder.PathOf("train_images/normal/truncated.jpg");
        var error = Assert.Throws<BadImageException>(() => new ImageDecoder().DecodeRgb(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Pixel_limit_is_checked_from_the_header()
    {
        using var folder = new TempFolder();
        var path = folder.WriteJpeg("a.jpg", 100, 50);
        Assert.Null(new ImageDecoder(maxPixels: 5_000).FindProblem(path));
        Assert.Contains("exceeds the limit", new ImageDecoder(maxPixels: 4_999).FindProblem(path));
    }
}
