using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>The pre-flight as a user meets it: Submit on a small Paddy-layout folder with bad CSV rows and bad images.</summary>
[Collection(nameof(EndToEndCollection))]
public sealed class DataPreflightEndToEndTests
{
    /// <summary>Twenty demo images per class for two classes and five test images, in Paddy's layout.</summary>
    private static void WriteSmallPaddyFolder(string root, string extraTrainRows)
    {
        var rows = new List<string> { "image_id,label" };
        foreach (var label in new[] { "bag", "sandal" })
        {
            var target = Directory.CreateDirectory(Path.Combine(root, "train_images", label)).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(BuildProgram.SampleData, "train_images", label)).Order().Take(20))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
                rows.Add($"{Path.GetFileName(file)},{label}");
            }
        }
        File.WriteAllText(Path.Combine(root, "train.csv"), string.Join('\n', rows) + '\n' + extraTrainRows);
        var tests = Directory.CreateDirectory(Path.Combine(root, "test_images")).FullName;
        var testFiles = Directory.GetFiles(Path.Combine(BuildProgram.SampleData, "test_images")).Order().Take(5).ToList();
        foreach (var file in testFiles) File.Copy(file, Path.Combine(tests, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(root, "sample_submission.csv"),
            "image_id,label\n" + string.Concat(testFiles.Select(f => $"{Path.GetFileName(f)},\n")));
        File.WriteAllBytes(Path.Combine(root, "train_images", "bag", "broken.png"), []);
    }

    private static string Pipeline(string root, bool skip) =>
        BuildProgram.TinyPipeline("preflight", models: "convnext")
            .Replace($"data: {{ root: {BuildProgram.SampleData},", $"data: {{ root: {root}, skip_bad_images: {(skip ? "true" : "false")},");

    [Fact]
    public void Submit_prints_every_data_problem_in_one_error_once_and_fails()
    {
        using var directory = new TestDirectory();
        var data = Path.Combine(directory.Path, "data");
        WriteSmallPaddyFolder(data, "../../etc/passwd,bag\nmissing.png,sandal\n");
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"), Pipeline(data, skip: false));

        var (exitCode, output) = BuildProgram.Run(directory.Path, "--target=Submit", "--pipeline=pipeline.yaml");

        Assert.NotEqual(0, exitCode);
        Assert.Equal(1, Count(output, "cannot be used (3 problem(s))"));
        Assert.Equal(1, Count(output, "'../../etc/passwd' is a path"));
        Assert.Equal(1, Count(output, "missing.png (label sandal) is not in any label folder"));
        Assert.Equal(1, Count(output, "broken.png: empty file"));
        Assert.Contains("data.skip_bad_images: true", output);
        Assert.DoesNotContain("valid error", output);
    }

    [Fact]
    public void With_skip_bad_images_the_run_trains_and_the_artifact_lists_what_was_skipped()
    {
        using var directory = new TestDirectory();
        var data = Path.Combine(directory.Path, "data");
        WriteSmallPaddyFolder(data, "");
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"), Pipeline(data, skip: true));

        var (exitCode, output) = BuildProgram.Run(directory.Path, "--target=Submit", "--pipeline=pipeline.yaml");

        Assert.True(exitCode == 0, output);
        var manifest = ArtifactManifest.Read(Path.Combine(directory.Path, "artifacts", "preflight", "models", BuildProgram.ConvNeXtSlug, ArtifactManifest.FileName));
        Assert.Equal(["train_images/bag/broken.png: empty file (0 bytes)"], manifest.SkippedBadImages);
        Assert.Equal(1, Count(output, "Leaving out 1 bad training image(s)"));
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
