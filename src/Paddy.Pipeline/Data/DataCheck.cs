namespace Paddy.Pipeline.Data;

/// <summary>
/// The outcome of checking a dataset: every problem (each naming its file, its place and the fix), the warnings, and
/// the training images left out because <c>data.skip_bad_images</c> is true.
/// </summary>
public sealed record DataCheckResult(IReadOnlyList<string> Problems, IReadOnlyList<string> Warnings, IReadOnlyList<BadImage> Skipped);

/// <summary>
/// The whole dataset checked in one pass: the layout and CSV files (<see cref="ImageDataset.Inspect"/>), then every
/// image that was found decoded within the limits (<see cref="BadImageScan"/>), so that CSV and image problems are
/// reported together rather than in two runs. A bad test image is always a problem: the submission needs it.
/// </summary>
public static class DataCheck
{
    public static DataCheckResult Run(string root, bool skipBadImages, ImageDecoder decoder)
    {
        var (dataset, layoutErrors) = ImageDataset.Inspect(root);
        var testItems = dataset.TestItems.ToHashSet(StringComparer.Ordinal);
        var files = BadImageScan.Stamp(root, dataset.TrainItems.Select(i => i.RelativePath).Concat(dataset.TestItems));
        var problems = layoutErrors.ToList();
        var skipped = new List<BadImage>();
        foreach (var bad in BadImageScan.Scan(root, files, decoder))
        {
            var path = Path.Combine(root, bad.RelativePath);
            if (testItems.Contains(bad.RelativePath))
                problems.Add($"{path}: {bad.Reason}; the submission needs every test image, so replace it " +
                             "(data.skip_bad_images leaves out training images only).");
            else if (skipBadImages)
                skipped.Add(bad);
            else
                problems.Add($"{path}: {bad.Reason}; fix or delete it, or set data.skip_bad_images: true to train without it.");
        }
        return new DataCheckResult(problems, dataset.Warnings, skipped);
    }
}
