using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Inference;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Jobs;

/// <summary>One Train task's inputs: the pipeline, the planned combination with its fingerprint, and where to write.</summary>
public sealed record TrainRequest(PipelineConfig Pipeline, PlannedTask Plan, ArtifactStore Store, string Device);

/// <summary>
/// What a Train task does, as the seed's notebook does for one model: read and check the data, split it with the
/// combination's own seed, fine-tune the fastai classifier on the timm body, predict the validation split, run TTA
/// on the test set, and write the artifact atomically. A checkpoint at each epoch end lets a killed run resume.
/// </summary>
public static class TrainJob
{
    /// <summary>Set to 1 by the parent build when its console is a terminal: the worker's own output is a pipe.</summary>
    public const string LiveProgressVariable = "PADDY_LIVE_PROGRESS";

    public static ArtifactManifest Run(TrainRequest request, TextWriter console, CancellationToken cancellation)
    {
        var combination = request.Plan.Combination;
        var training = combination.Training;
        var workFolder = request.Store.WorkPathOf(combination.Slug);
        Directory.CreateDirectory(workFolder);
        var logPath = Path.Combine(workFolder, ArtifactFiles.Log);
        using var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var output = new TeeWriter(console, log);
        var clock = Stopwatch.StartNew();

        var (device, explanation) = DeviceSelector.Select(request.Device);
        output.WriteLine($"{combination.TaskName}: {explanation}.");
        using var memory = PeakMemory.For(device);
        memory.Start();
        var seed = CombinationSeed(request.Pipeline.Seed, combination);
        manual_seed(seed);

        var (dataset, skipped) = ReadCheckedData(request.Pipeline.Data, output);
        var (trainIndices, validIndices) = RandomSplit.Split(dataset.TrainItems.Count, request.Pipeline.Data.ValidPct, seed);
        var trainItems = trainIndices.Select(i => dataset.TrainItems[i]).ToList();
        var validItems = validIndices.Select(i => dataset.TrainItems[i]).ToList();
        output.WriteLine($"{dataset.TrainItems.Count} training images in {dataset.Vocab.Count} classes: {trainItems.Count} to train, {validItems.Count} to validate (split seed {seed}); {dataset.TestItems.Count} test images.");

        using var setup = Prepare(request, combination, dataset, seed, device, output);
        var (model, halfType, Loader) = (setup.Model, setup.HalfType, setup.Loader);
        var testItems = ImageLoader.Unlabelled(dataset.TestItems);

        var trainLoader = Loader(trainItems, LoaderKind.Train);
        var validLoader = Loader(validItems, LoaderKind.Valid);
        using var checkpointing = new CheckpointCallback(workFolder, ResumePlan(training, halfType, seed, trainLoader, validLoader));
        if (checkpointing.Resuming is { } resuming) output.WriteLine($"Resuming from {checkpointing.FilePath}: {resuming}.");
        using var learner = new Learner(model, trainLoader, validLoader,
        [
            .. SeedRecipe(training, halfType, seed, output, live: Environment.GetEnvironmentVariable(LiveProgressVariable) == "1"),
            checkpointing,
        ]);
        if (training.Method == TrainingMethod.FitOneCycle)
            learner.UnfrozenFitOneCycle(training.Epochs, training.Lr, cancellation);
        else
            learner.FineTune(training.Epochs, training.Lr, training.FreezeEpochs, cancellation: cancellation);
        cancellation.ThrowIfCancellationRequested();

        output.WriteLine($"Predicting the validation split and the test set (TTA n={training.Tta.Passes}, beta={training.Tta.Beta}).");
        var (validProbabilities, validTargets) = learner.GetPreds(learner.ValidLoader);
        using var testProbabilities = training.Tta.Passes > 0
            ? Tta.Predict((loader, pass) => learner.GetPreds(loader, pass).Probabilities,
                Loader(testItems, LoaderKind.Valid), Loader(testItems, LoaderKind.TestWithTrainTransforms),
                training.Tta.Passes, training.Tta.Beta)
            : learner.GetPreds(Loader(testItems, LoaderKind.Valid)).Probabilities;
        cancellation.ThrowIfCancellationRequested();

        var validError = Ensembling.WeightedEnsemble.ErrorRate(validProbabilities, validTargets);
        var validLoss = nn.functional.nll_loss(validProbabilities.clamp_min(1e-12).log(), validTargets).item<float>();
        var manifest = request.Store.Commit(combination.Slug, folder =>
        {
            SafeTensors.Save(Path.Combine(folder, ArtifactFiles.TestProbabilities),
                [new(ArtifactFiles.ProbabilitiesKey, testProbabilities)]);
            using var items = tensor(validIndices.Select(i => (long)i).ToArray());
            SafeTensors.Save(Path.Combine(folder, ArtifactFiles.ValidPredictions),
            [
                new(ArtifactFiles.ProbabilitiesKey, validProbabilities),
                new(ArtifactFiles.TargetsKey, validTargets),
                new(ArtifactFiles.ItemsKey, items),
            ]);
            learner.History.WriteCsv(Path.Combine(folder, ArtifactFiles.History));
            learner.History.WriteScheduleCsv(Path.Combine(folder, ArtifactFiles.Schedule));
            output.WriteLine($"{combination.TaskName}: valid error {validError:P2}, {clock.Elapsed.TotalSeconds:F0} s, peak memory {Mebibytes(memory.PeakBytes)} ({memory.Source}).");
            File.Copy(logPath, Path.Combine(folder, ArtifactFiles.Log));
            return new ArtifactManifest
            {
                Task = combination.TaskName,
                Fingerprint = request.Plan.Fingerprint,
                FingerprintInputs = request.Plan.Inputs.ToJson(),
                Vocab = dataset.Vocab,
                ValidError = validError,
                ValidLoss = validLoss,
                ValidCount = validItems.Count,
                TestIds = dataset.TestItems.Select(Path.GetFileName).ToList()!,
                Device = device.ToString(),
                Precision = halfType?.ToString() ?? "Float32",
                TrainSeconds = clock.Elapsed.TotalSeconds,
                PeakMemoryBytes = memory.PeakBytes,
                SkippedBadImages = skipped,
            };
        });
        checkpointing.Delete();
        log.Dispose();
        File.Delete(logPath);
        validProbabilities.Dispose();
        validTargets.Dispose();
        return manifest;
    }

    /// <summary>
    /// The memory probe (the seed's hand search, automated): the combination trained unfrozen on a few batches of the
    /// smallest class at the given accum, as the notebook did, and the run's peak memory. Prints it as
    /// <c>peak_memory_bytes=N</c> for the parent; writes no artifact.
    /// </summary>
    public static long? Probe(TrainRequest request, int accum, TextWriter output, CancellationToken cancellation)
    {
        var combination = request.Plan.Combination with { Training = request.Plan.Combination.Training with { Accum = accum } };
        var (device, explanation) = DeviceSelector.Select(request.Device);
        output.WriteLine($"Probing {combination.TaskName} at accum {accum}: {explanation}.");
        using var memory = PeakMemory.For(device);
        memory.Start();
        var seed = CombinationSeed(request.Pipeline.Seed, combination);
        manual_seed(seed);
        var dataset = ImageDataset.Read(request.Pipeline.Data.Root);
        var smallest = dataset.TrainItems.GroupBy(i => i.Label).MinBy(g => g.Count())!.ToList();
        var items = Enumerable.Range(0, 2 * combination.Training.BatchSize).Select(i => smallest[i % smallest.Count]).ToList();

        using var setup = Prepare(request, combination, dataset, seed, device, output);
        using (var learner = new Learner(setup.Model, setup.Loader(items, LoaderKind.Train),
            setup.Loader(items.Take(combination.Training.MicroBatchSize).ToList(), LoaderKind.Valid),
            SeedRecipe(combination.Training, setup.HalfType, seed, output, live: false)))
        {
            learner.FitOneCycle(1, LrSlice.All(combination.Training.Lr), cancellation: cancellation);
        }
        output.WriteLine($"{PeakMemoryLinePrefix}{memory.PeakBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}");
        return memory.PeakBytes;
    }

    /// <summary>
    /// The seed's training callbacks: GradientAccumulation(batch_size) as the notebook's, to_fp16/to_bf16 when a half
    /// type is set, dropout reseeded per epoch so that a resumed run replays, and the epoch table.
    /// </summary>
    private static List<Callback> SeedRecipe(TrainingSettings training, ScalarType? halfType, int seed, TextWriter output, bool live)
    {
        var callbacks = new List<Callback> { new GradientAccumulation(training.BatchSize), new EpochSeeding(seed), new ProgressPrinter(output, live) };
        if (halfType is { } half) callbacks.Add(new MixedPrecision(half));
        return callbacks;
    }

    /// <summary>
    /// Everything a checkpoint's training depends on beyond the model and the data, so that a checkpoint is only
    /// resumed by the run that wrote it.
    /// </summary>
    private static string ResumePlan(TrainingSettings training, ScalarType? halfType, int seed, IBatchLoader train, IBatchLoader valid)
    {
        var schedule = training.Method == TrainingMethod.FitOneCycle
            ? string.Create(CultureInfo.InvariantCulture, $"fit_one_cycle(epochs={training.Epochs}, lr={training.Lr:R})")
            : string.Create(CultureInfo.InvariantCulture, $"fine_tune(epochs={training.Epochs}, base_lr={training.Lr:R}, freeze_epochs={training.FreezeEpochs})");
        return string.Create(CultureInfo.InvariantCulture,
            $"{schedule} n_acc={training.BatchSize} precision={halfType?.ToString() ?? "Float32"} seed={seed} train={train.ItemCount}x{train.BatchSize}/{train.BatchesPerEpoch} valid={valid.ItemCount}");
    }

    /// <summary>How a probe reports its figure on standard output.</summary>
    public const string PeakMemoryLinePrefix = "peak_memory_bytes=";

    private sealed record Setup(FastaiClassifier Model, ScalarType? HalfType,
        Func<IReadOnlyList<LabelledImage>, LoaderKind, ImageLoader> Loader) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    /// <summary>The model on its device with its pretrained body, the precision, and loaders with the combination's transforms.</summary>
    private static Setup Prepare(TrainRequest request, CombinationConfig combination, ImageDataset dataset, int seed,
        TorchSharp.torch.Device device, TextWriter output)
    {
        var definition = ModelCatalog.Resolve(combination.Arch);
        var weightsPath = combination.Weights == PipelineLoader.WeightsNone
            ? null
            : WeightsLocator.Resolve(combination.Weights, Path.GetDirectoryName(request.Pipeline.SourcePath)!);
        output.WriteLine($"Model {definition.Name} at {combination.Size}, {(weightsPath is null ? "trained from scratch" : $"weights {weightsPath}")}.");
        var model = FastaiClassifier.Create(definition, dataset.Vocab.Count, combination.Size.Height, combination.Size.Width, weightsPath);
        model.to(device);
        var halfType = MixedPrecisionType(combination.Training.Precision, device, output);
        var normalization = new Normalization(definition.Pretrained.Mean.Select(v => (float)v).ToArray(),
            definition.Pretrained.Std.Select(v => (float)v).ToArray());
        var settings = new LoaderSettings(combination.Resize, new BatchAugmentation(combination.Size, normalization),
            combination.Training.MicroBatchSize, seed, device);
        var cache = new ItemCache();
        var decoder = new ImageDecoder();
        return new Setup(model, halfType, (items, kind) => new ImageLoader(dataset.Root, items, kind, settings, cache, decoder));
    }

    /// <summary>
    /// The seed's notebook drew a fresh random split for every model; here each combination gets its own split,
    /// reproducibly: a seed derived from the pipeline seed and the combination's key.
    /// </summary>
    public static int CombinationSeed(int pipelineSeed, CombinationConfig combination)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{pipelineSeed}:{combination.Key}"));
        return BitConverter.ToInt32(hash, 0) & int.MaxValue;
    }

    private static (ImageDataset Dataset, IReadOnlyList<string> Skipped) ReadCheckedData(DataSettings data, TextWriter output)
    {
        var dataset = ImageDataset.Read(data.Root);
        foreach (var warning in dataset.Warnings) output.WriteLine($"warning: {warning}");
        var files = BadImageScan.Stamp(dataset.Root, dataset.TrainItems.Select(i => i.RelativePath).Concat(dataset.TestItems));
        var bad = BadImageScan.Scan(dataset.Root, files, new ImageDecoder());
        var badTest = bad.Where(b => dataset.TestItems.Contains(b.RelativePath)).ToList();
        if (badTest.Count > 0 && data.SkipBadImages)
            throw new BadImagesException(dataset.Root, badTest);
        var checkedData = BadImageScan.Apply(dataset, bad, data.SkipBadImages);
        if (bad.Count > 0) output.WriteLine($"Skipping {bad.Count} bad training image(s) (data.skip_bad_images is true); the artifact lists them.");
        return (checkedData, bad.Select(b => $"{b.RelativePath}: {b.Reason}").ToList());
    }

    /// <summary>fp16 is CUDA's half type (as fastai's to_fp16); on the CPU the same code runs in bfloat16.</summary>
    private static ScalarType? MixedPrecisionType(Precision precision, TorchSharp.torch.Device device, TextWriter output)
    {
        switch (precision)
        {
            case Precision.Fp32: return null;
            case Precision.Bf16: return ScalarType.BFloat16;
            case Precision.Fp16 when device.type == TorchSharp.DeviceType.CUDA: return ScalarType.Float16;
            default:
                output.WriteLine("precision fp16 needs CUDA; on the CPU mixed precision runs in bfloat16.");
                return ScalarType.BFloat16;
        }
    }

    private static string Mebibytes(long? bytes) => bytes is { } b ? $"{b / (1024.0 * 1024):F0} MiB" : "not measured";

    /// <summary>Writes everything to the console and to the task's log file, except progress-bar redraws ("\r...").</summary>
    private sealed class TeeWriter(TextWriter first, TextWriter second) : TextWriter
    {
        public override Encoding Encoding => first.Encoding;

        public override void Write(char value)
        {
            first.Write(value);
            if (value != '\r') second.Write(value);
        }

        public override void Write(string? value)
        {
            first.Write(value);
            if (value is null || !value.StartsWith('\r')) second.Write(value);
        }

        public override void WriteLine(string? value)
        {
            first.WriteLine(value);
            second.WriteLine(value);
        }

        public override void Flush()
        {
            first.Flush();
            second.Flush();
        }
    }
}
