namespace Paddy.Pipeline.Data;

/// <summary>A training image: its path relative to the dataset root ('/'-separated) and its index in the vocab.</summary>
public sealed record LabelledImage(string RelativePath, int Label);

/// <summary>
/// A dataset in Kaggle's Paddy layout (<c>train.csv</c>, <c>train_images/&lt;label&gt;/</c>, <c>test_images/</c>,
/// <c>sample_submission.csv</c>) or any folder-per-label dataset. Labels come from the parent folder, as fastai's
/// ImageDataLoaders.from_folder takes them; the vocab is sorted ordinally, as Python sorts strings.
/// All paths are relative to <see cref="Root"/> so that fingerprints do not depend on where the data lives.
/// </summary>
public sealed class ImageDataset
{
    public const string TrainCsv = "train.csv";
    public const string TrainFolder = "train_images";
    public const string TestFolder = "test_images";
    public const string SampleSubmissionCsv = "sample_submission.csv";

    /// <summary>
    /// Whether a file under the root (relative, '/'-separated) is one this dataset reads: the two CSVs and everything in
    /// a folder. Other top-level files, such as a solution.csv or the pipeline's YAML, are not data.
    /// </summary>
    public static bool IsDatasetFile(string relativePath) =>
        relativePath.Contains('/') || relativePath is TrainCsv or SampleSubmissionCsv;

    private static readonly HashSet<string> ImageExtensions =
        new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp" };

    private ImageDataset(string root, IReadOnlyList<string> vocab, IReadOnlyList<LabelledImage> train,
        IReadOnlyList<string> test, IReadOnlyList<string> warnings)
    {
        Root = root;
        Vocab = vocab;
        TrainItems = train;
        TestItems = test;
        Warnings = warnings;
    }

    public string Root { get; }
    public IReadOnlyList<string> Vocab { get; }
    public IReadOnlyList<LabelledImage> TrainItems { get; }

    /// <summary>Test images, relative paths, in sample_submission.csv order when that file exists, else sorted.</summary>
    public IReadOnlyList<string> TestItems { get; }

    /// <summary>Inconsistencies that do not stop training (the folder label is used); show them to the user.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public string FullPath(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>A copy without the given images (the bad ones a scan found), vocab unchanged.</summary>
    public ImageDataset Without(IEnumerable<string> relativePaths)
    {
        var excluded = relativePaths.ToHashSet(StringComparer.Ordinal);
        return new ImageDataset(Root, Vocab, TrainItems.Where(i => !excluded.Contains(i.RelativePath)).ToList(),
            TestItems.Where(p => !excluded.Contains(p)).ToList(), Warnings);
    }

    /// <summary>
    /// Reads the layout under <paramref name="root"/> and throws one <see cref="DatasetException"/> listing every
    /// problem <see cref="Inspect"/> finds.
    /// </summary>
    public static ImageDataset Read(string root)
    {
        var (dataset, errors) = Inspect(root);
        if (errors.Count > 0) throw new DatasetException(root, errors);
        return dataset;
    }

    /// <summary>
    /// The layout under <paramref name="root"/> and everything wrong with it, without throwing, so that a caller can
    /// report these errors together with others (the bad images among what was found). Errors: an image_id that is a
    /// path rather than a file name, a train.csv image that is in no label folder, an image in two label folders, a
    /// sample_submission.csv image missing from test_images, no labelled images. Warnings: an image in a label folder
    /// that train.csv does not list, a label folder train.csv never names, a train.csv label that differs from the
    /// image's folder. The dataset holds the images that were found.
    /// </summary>
    public static (ImageDataset Dataset, IReadOnlyList<string> Errors) Inspect(string root)
    {
        if (!Directory.Exists(root))
            return (new ImageDataset(root, [], [], [], []),
                [$"{root}: the dataset folder does not exist; check data.root in the pipeline file."]);
        var errors = new List<string>();
        var warnings = new List<string>();

        var trainFolder = Directory.Exists(Path.Combine(root, TrainFolder)) ? TrainFolder : "";
        var found = FindLabelledImages(root, trainFolder, errors);
        var vocab = found.Values.Distinct().Order(StringComparer.Ordinal).ToList();

        var trainCsv = Path.Combine(root, TrainCsv);
        if (File.Exists(trainCsv)) CrossCheck(trainCsv, trainFolder, found, errors, warnings);
        if (found.Count == 0)
            errors.Add($"{Path.Combine(root, trainFolder)}: no images in label folders; expected <label>/<image> under it.");

        var labelIndex = vocab.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var train = found.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new LabelledImage(p.Key, labelIndex[p.Value])).ToList();
        var test = ReadTestItems(root, errors);
        return (new ImageDataset(root, vocab, train, test, warnings), errors);
    }

    /// <summary>
    /// Why <paramref name="imageId"/> is not a plain file name (a folder separator, '.' or '..', an absolute
    /// path), or null when it is one. An id is joined to a folder, so a path would read outside it.
    /// </summary>
    public static string? PathProblem(string imageId)
    {
        if (imageId.IndexOfAny(['/', '\\']) >= 0 || Path.IsPathRooted(imageId))
            return $"the image_id '{imageId}' is a path, not a file name";
        if (imageId is "." or "..")
            return $"the image_id '{imageId}' names a folder, not a file";
        return null;
    }

    // relative path -> label folder name
    private static Dictionary<string, string> FindLabelledImages(string root, string trainFolder, List<string> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var firstFolderOfName = new Dictionary<string, string>(StringComparer.Ordinal);
        var labelRoot = Path.Combine(root, trainFolder);
        foreach (var folder in Directory.EnumerateDirectories(labelRoot).Order(StringComparer.Ordinal))
        {
            var label = Path.GetFileName(folder);
            if (trainFolder == "" && label == TestFolder) continue;
            foreach (var file in Directory.EnumerateFiles(folder).Where(IsImageFile).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(file);
                var relative = Relative(trainFolder, label, name);
                if (firstFolderOfName.TryGetValue(name, out var other))
                {
                    errors.Add($"{Path.Combine(labelRoot, label, name)}: the image {name} is also in {Path.Combine(labelRoot, other)}; " +
                               "its label is ambiguous, keep it in one label folder only.");
                    continue;
                }
                firstFolderOfName[name] = label;
                result[relative] = label;
            }
        }
        return result;
    }

    private static void CrossCheck(string trainCsv, string trainFolder, Dictionary<string, string> found,
        List<string> errors, List<string> warnings)
    {
        var folderOfName = found.ToDictionary(p => Path.GetFileName(p.Key), p => p.Value, StringComparer.Ordinal);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var labelsInCsv = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, values) in CsvRows.Read(trainCsv, ["image_id", "label"], required: 2, errors))
        {
            var (imageId, label) = (values[0], values[1]);
            if (PathProblem(imageId) is { } pathProblem)
            {
                errors.Add($"{trainCsv}, line {line}: {pathProblem}; image_id must be the image's file name (such as 100330.jpg) in its label folder. Fix or remove the line.");
                continue;
            }
            listed.Add(imageId);
            labelsInCsv.Add(label);
            if (!folderOfName.TryGetValue(imageId, out var folder))
                errors.Add($"{trainCsv}, line {line}: {imageId} (label {label}) is not in any label folder; " +
                           $"expected {Path.Combine(Path.GetDirectoryName(trainCsv)!, trainFolder, label, imageId)}. Restore the image or remove the line.");
            else if (folder != label)
                warnings.Add($"{trainCsv}, line {line}: {imageId} is labelled {label} but lies in the folder {folder}; the folder's label is used.");
        }
        foreach (var folder in found.Values.Distinct().Where(l => !labelsInCsv.Contains(l)).Order(StringComparer.Ordinal))
            warnings.Add($"{trainCsv}: the label folder {folder} is never named in the label column; its images are trained with label {folder}.");
        var unlisted = found.Keys.Where(p => !listed.Contains(Path.GetFileName(p))).ToList();
        if (unlisted.Count > 0)
            warnings.Add($"{trainCsv}: {unlisted.Count} image(s) in label folders are not listed (first: {unlisted[0]}); they are trained with their folder's label.");
    }

    private static List<string> ReadTestItems(string root, List<string> errors)
    {
        var testFolder = Path.Combine(root, TestFolder);
        var submission = Path.Combine(root, SampleSubmissionCsv);
        if (File.Exists(submission))
        {
            var items = new List<string>();
            foreach (var (line, values) in CsvRows.Read(submission, ["image_id"], required: 1, errors))
            {
                var imageId = values[0];
                if (PathProblem(imageId) is { } pathProblem)
                    errors.Add($"{submission}, line {line}: {pathProblem}; image_id must be a file name in {testFolder}. Fix the line.");
                else if (!File.Exists(Path.Combine(testFolder, imageId)))
                    errors.Add($"{submission}, line {line}: the test image {Path.Combine(testFolder, imageId)} is missing; " +
                               "every listed test image must exist to write a submission. Restore it or remove the line.");
                else
                    items.Add(Relative(TestFolder, imageId));
            }
            return items;
        }
        return Directory.Exists(testFolder)
            ? Directory.EnumerateFiles(testFolder).Where(IsImageFile).Select(Path.GetFileName)
                .Order(StringComparer.Ordinal).Select(name => Relative(TestFolder, name!)).ToList()
            : [];
    }

    private static bool IsImageFile(string path) => ImageExtensions.Contains(Path.GetExtension(path));

    private static string Relative(params string[] parts) => string.Join('/', parts.Where(p => p.Length > 0));
}

/// <summary>Everything wrong with a dataset (its layout, its CSV files, its images), one line per problem, each naming
/// its file, its place and the fix.</summary>
public sealed class DatasetException(string root, IReadOnlyList<string> problems)
    : Exception($"The dataset at {root} cannot be used ({problems.Count} problem(s)); fix them all and run again:{Environment.NewLine}"
                + string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
