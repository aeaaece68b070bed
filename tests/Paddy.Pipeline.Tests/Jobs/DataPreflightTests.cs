using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Tests.Data;

namespace Paddy.Pipeline.Tests.Jobs;

public class DataPreflightTests
{
    /// <summary>A Paddy-layout folder of real JPEGs, with a bad training image and a bad test image when asked.</summary>
    private static TempFolder PaddyFolder(string trainCsv, bool badImages)
    {
        var folder = new TempFolder();
        folder.WriteText("train.csv", trainCsv);
        folder.WriteJpeg("train_images/blast/101.jpg", 24, 32, seed: 1);
        folder.WriteJpeg("train_images/blast/102.jpg", 24, 32, seed: 2);
        folder.WriteJpeg("train_images/normal/103.jpg", 24, 32, seed: 3);
        folder.WriteJpeg("test_images/201.jpg", 24, 32, seed: 4);
        folder.WriteText("sample_submission.csv", "image_id,label\n201.jpg,\n");
        if (badImages)
        {
            folder.WriteBytes("train_images/normal/104.jpg", []);
            var whole = File.ReadAllBytes(folder.PathOf("test_images/201.jpg"));
            folder.WriteBytes("test_images/201.jpg", whole[..(whole.Length / 2)]);
        }
        return folder;
    }

    private const string CleanCsv = "image_id,label\n101.jpg,blast\n102.jpg,blast\n103.jpg,normal\n";

    private static DataSettings Settings(TempFolder folder, bool skip) => new(folder.Root, 0.2, skip);

    [Fact]
    public void Bad_csv_rows_and_bad_images_come_out_together_in_one_error()
    {
        using var folder = PaddyFolder(CleanCsv + "../../etc/passwd,normal\n105.jpg,normal\n,blast\n", badImages: true);
        using var cache = new TempFolder();
        var error = Assert.Throws<DatasetException>(() => DataPreflight.Run(Settings(folder, skip: false), "sha-1", cache.Root));

        Assert.Equal(5, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("train.csv, line 5") && p.Contains("'../../etc/passwd' is a path"));
        Assert.Contains(error.Problems, p => p.Contains("train.csv, line 6") && p.Contains("105.jpg") && p.Contains("not in any label folder"));
        Assert.Contains(error.Problems, p => p.Contains("train.csv, line 7") && p.Contains("empty image_id"));
        Assert.Contains(error.Problems, p => p.Contains(Path.Combine("normal", "104.jpg")) && p.Contains("empty file")
                                             && p.Contains("data.skip_bad_images: true"));
        Assert.Contains(error.Problems, p => p.Contains(Path.Combine("test_images", "201.jpg")) && p.Contains("truncated"));
        Assert.DoesNotContain("skipBadImages", error.Message);
        Assert.StartsWith($"The dataset at {folder.Root} cannot be used (5 problem(s))", error.Message);
    }

    [Fact]
    public void Skipping_bad_images_leaves_out_training_images_but_never_test_images()
    {
        using var folder = PaddyFolder(CleanCsv, badImages: true);
        using var cache = new TempFolder();
        var error = Assert.Throws<DatasetException>(() => DataPreflight.Run(Settings(folder, skip: true), "sha-1", cache.Root));
        Assert.Contains("test_images", Assert.Single(error.Problems));

        File.Copy(folder.PathOf("train_images/blast/101.jpg"), folder.PathOf("test_images/201.jpg"), overwrite: true);
        var result = DataPreflight.Run(Settings(folder, skip: true), "sha-2", cache.Root);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal("train_images/normal/104.jpg", skipped.RelativePath);
        Assert.Contains("empty file", skipped.Reason);
        Assert.Contains(result.Warnings, w => w.Contains("not listed"));

        var remembered = DataPreflight.Run(Settings(folder, skip: true), "sha-2", cache.Root);
        Assert.True(remembered.Remembered);
        Assert.Equal(result.Skipped, remembered.Skipped);
        Assert.Equal(result.Warnings, remembered.Warnings);
    }

    [Fact]
    public void Unchanged_data_is_remembered_and_not_decoded_again()
    {
        using var folder = PaddyFolder(CleanCsv, badImages: false);
        using var cache = new TempFolder();
        var first = DataPreflight.Run(Settings(folder, skip: false), "sha-1", cache.Root);
        Assert.False(first.Remembered);

        // Broken behind the manifest's back: a decode would find it, the remembered answer for the same data hash does not.
        folder.WriteBytes("train_images/blast/101.jpg", []);
        var second = DataPreflight.Run(Settings(folder, skip: false), "sha-1", cache.Root);
        Assert.True(second.Remembered);
        Assert.Empty(second.Skipped);

        // New data (a new manifest hash) is checked again, and its answer remembered, failure included.
        Assert.Throws<DatasetException>(() => DataPreflight.Run(Settings(folder, skip: false), "sha-2", cache.Root));
        File.Copy(folder.PathOf("train_images/blast/102.jpg"), folder.PathOf("train_images/blast/101.jpg"), overwrite: true);
        Assert.Throws<DatasetException>(() => DataPreflight.Run(Settings(folder, skip: false), "sha-2", cache.Root));
    }

    [Fact]
    public void The_skip_setting_is_part_of_what_is_remembered()
    {
        using var folder = PaddyFolder(CleanCsv + "104.jpg,normal\n", badImages: false);
        folder.WriteBytes("train_images/normal/104.jpg", []);
        using var cache = new TempFolder();
        Assert.Throws<DatasetException>(() => DataPreflight.Run(Settings(folder, skip: false), "sha-1", cache.Root));
        var skipping = DataPreflight.Run(Settings(folder, skip: true), "sha-1", cache.Root);
        Assert.False(skipping.Remembered);
        Assert.Single(skipping.Skipped);
    }
}
