using Paddy.Pipeline.Data;

namespace Paddy.Pipeline.Tests.Data;

public class ImageDatasetTests
{
    // The layout checks look at file names only, so tiny placeholder files stand in for images.
    private static TempFolder PaddyLayout()
    {
        var folder = new TempFolder();
        folder.WriteText("train.csv", "image_id,label,variety,age\n100.jpg,normal,ADT45,45\n101.jpg,blast,ADT45,50\n102.jpg,Tungro,KarnatakaPonni,60\n103.jpg,blast,ADT45,55\n");
        folder.WriteText("train_images/normal/100.jpg", "x");
        folder.WriteText("train_images/blast/101.jpg", "x");
        folder.WriteText("train_images/blast/103.jpg", "x");
        folder.WriteText("train_images/Tungro/102.jpg", "x");
        // As on Kaggle, sample_submission's label column is empty: only image_id matters.
        folder.WriteText("sample_submission.csv", "image_id,label\n200002.jpg,\n200001.jpg,\n200003.jpg,\n");
        foreach (var id in new[] { "200001", "200002", "200003" }) folder.WriteText($"test_images/{id}.jpg", "x");
        return folder;
    }

    [Fact]
    public void Paddy_layout_gives_ordinal_vocab_folder_labels_and_submission_order()
    {
        using var folder = PaddyLayout();
        var dataset = ImageDataset.Read(folder.Root);

        Assert.Equal(["Tungro", "blast", "normal"], dataset.Vocab); // ordinal: upper case sorts first
        var labels = dataset.TrainItems.ToDictionary(i => i.RelativePath, i => dataset.Vocab[i.Label]);
        Assert.Equal(new Dictionary<string, string>
        {
            ["train_images/Tungro/102.jpg"] = "Tungro",
            ["train_images/blast/101.jpg"] = "blast",
            ["train_images/blast/103.jpg"] = "blast",
            ["train_images/normal/100.jpg"] = "normal",
        }, labels);
        Assert.Equal(["test_images/200002.jpg", "test_images/200001.jpg", "test_images/200003.jpg"], dataset.TestItems);
        Assert.Empty(dataset.Warnings);
    }

    [Fact]
    public void Listed_image_missing_from_every_folder_is_an_error_naming_train_csv()
    {
        using var folder = PaddyLayout();
        File.Delete(folder.PathOf("train_images/blast/103.jpg"));
        var error = Assert.Throws<DatasetException>(() => ImageDataset.Read(folder.Root));
        var problem = Assert.Single(error.Problems);
        Assert.Contains("train.csv, line 5", problem);
        Assert.Contains("103.jpg", problem);
    }

    [Fact]
    public void Image_in_two_label_folders_is_an_error()
    {
        using var folder = PaddyLayout();
        folder.WriteText("train_images/normal/101.jpg", "x");
        var error = Assert.Throws<DatasetException>(() => ImageDataset.Read(folder.Root));
        Assert.Contains(error.Problems, p => p.Contains("101.jpg") && p.Contains("ambiguous"));
    }

    [Fact]
    public void Missing_test_image_is_an_error_naming_sample_submission()
    {
        using var folder = PaddyLayout();
        folder.WriteText("sample_submission.csv", "image_id,label\n200001.jpg,normal\n200009.jpg,normal\n");
        var error = Assert.Throws<DatasetException>(() => ImageDataset.Read(folder.Root));
        var problem = Assert.Single(error.Problems);
        Assert.Contains("sample_submission.csv, line 3", problem);
        Assert.Contains("200009.jpg", problem);
    }

    [Fact]
    public void Label_mismatch_and_unlisted_folder_are_warnings_and_the_folder_wins()
    {
        using var folder = PaddyLayout();
        folder.WriteText("train.csv", "image_id,label\n100.jpg,normal\n101.jpg,blast\n103.jpg,normal\n102.jpg,blast\n");
        var dataset = ImageDataset.Read(folder.Root);

        Assert.Contains(dataset.Warnings, w => w.Contains("line 4") && w.Contains("103.jpg") && w.Contains("folder blast"));
        Assert.Contains(dataset.Warnings, w => w.Contains("Tungro") && w.Contains("never named"));
        var item = dataset.TrainItems.Single(i => i.RelativePath.EndsWith("103.jpg"));
        Assert.Equal("blast", dataset.Vocab[item.Label]);
    }

    [Fact]
    public void Folder_per_label_dataset_without_csv_files()
    {
        using var folder = new TempFolder();
        folder.WriteText("cat/1.png", "x");
        folder.WriteText("dog/2.jpg", "x");
        folder.WriteText("dog/notes.txt", "not an image extension");
        var dataset = ImageDataset.Read(folder.Root);
        Assert.Equal(["cat", "dog"], dataset.Vocab);
        Assert.Equal([new LabelledImage("cat/1.png", 0), new LabelledImage("dog/2.jpg", 1)], dataset.TrainItems);
        Assert.Empty(dataset.TestItems);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("normal/100.jpg")]
    [InlineData("..\\100.jpg")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    public void Image_id_that_is_a_path_is_refused_as_a_path(string imageId)
    {
        using var folder = PaddyLayout();
        folder.WriteText("train.csv", $"image_id,label\n100.jpg,normal\n{imageId},normal\n101.jpg,blast\n103.jpg,blast\n102.jpg,Tungro\n");
        folder.WriteText("sample_submission.csv", $"image_id,label\n200001.jpg,\n{imageId},\n");
        var error = Assert.Throws<DatasetException>(() => ImageDataset.Read(folder.Root));
        Assert.Equal(2, error.Problems.Count);
        Assert.Contains("train.csv, line 3", error.Problems[0]);
        Assert.Contains("sample_submission.csv, line 3", error.Problems[1]);
        Assert.All(error.Problems, p => Assert.Contains($"'{imageId}'", p));
        Assert.All(error.Problems, p => Assert.Matches("is a path|names a folder", p));
        Assert.DoesNotContain(error.Problems, p => p.Contains("not in any label folder"));
    }
}
