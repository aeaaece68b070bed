using System.Diagnostics;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using Paddy.Pipeline.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.Optimizer;

/// <summary>
/// The optimizer step for vit_large_patch16_224's real parameter list (random weights and gradients, CPU, no forward):
/// per-tensor fastai Adam against the flat-buffer FastaiAdam, and the loss scaler's unscale/finite-check and
/// zero_grad both ways. Then the host reads (device synchronisations on CUDA) of real training micro-batches,
/// counted through HostReads on a small ViT with fp16 loss scaling, accumulation and batch augmentation.
/// </summary>
public sealed class OptimizerBenchmark : IBenchmark
{
    public string Name => "optimizer";
    public string Description => "vit_large optimizer step per-tensor vs flat, and host reads per micro-batch (options: --model vit_large_patch16_224 --steps 3 --part all|step|reads)";

    public void Run(IReadOnlyList<string> arguments)
    {
        var modelName = BenchmarkSupport.Option(arguments, "--model", "vit_large_patch16_224");
        var steps = int.Parse(BenchmarkSupport.Option(arguments, "--steps", "3"));
        Console.WriteLine($"CPU, {get_num_threads()} torch threads; medians of {steps} steps after one warm-up");
        var part = BenchmarkSupport.Option(arguments, "--part", "all");
        if (part is "all" or "step") OptimizerStep(modelName, steps);
        if (part is "all" or "reads") HostReadsPerMicroBatch();
    }

    private static void OptimizerStep(string modelName, int steps)
    {
        manual_seed(0);
        using var model = new FastaiClassifier(ModelCatalog.Resolve(modelName).Create(new ModelOptions(0, 224, 224)), numClasses: 10);
        var groups = model.ParameterGroups();
        var parameters = groups.SelectMany(g => g.Parameters).ToList();
        int decayed = parameters.Count(p => !p.ExemptFromWeightDecay);
        long elements = parameters.Sum(p => p.Parameter.numel());
        Console.WriteLine($"{modelName} + fastai head: {parameters.Count} parameter tensors ({decayed} decayed), {elements:N0} values, {groups.Count} groups");
        foreach (var trainable in parameters)
        {
            using var gradient = randn_like(trainable.Parameter).mul_(1e-3);
            trainable.Parameter.grad = gradient;
        }

        using (var perTensor = new PerTensorAdam(groups, 1e-4, 0.9, 0.01))
        {
            var adam = BenchmarkSupport.MedianMilliseconds(steps, perTensor.Step);
            var unscale = BenchmarkSupport.MedianMilliseconds(steps, () => new LossScaler().Unscale(parameters.Select(p => p.Parameter.grad!)));
            var zero = BenchmarkSupport.MedianMilliseconds(steps, () =>
            {
                using var scope = NewDisposeScope();
                foreach (var p in parameters) p.Parameter.grad!.zero_();
            });
            Report("per-tensor", adam, unscale, zero, decayed * 9 + (parameters.Count - decayed) * 8, parameters.Count * 4, parameters.Count);
        }

        using var flat = new FastaiAdam(groups, 0.01);
        foreach (var hyper in flat.Hyperparameters) hyper.LearningRate = 1e-4;
        var clock = Stopwatch.StartNew();
        var layout = flat.StepGradients();
        Console.WriteLine($"flat buffers made once per fit phase (parameters and gradients moved in): {clock.Elapsed.TotalMilliseconds:F0} ms");
        var flatAdam = BenchmarkSupport.MedianMilliseconds(steps, flat.Step);
        var flatUnscale = BenchmarkSupport.MedianMilliseconds(steps, () => new LossScaler().Unscale(flat.StepGradients()));
        var flatZero = BenchmarkSupport.MedianMilliseconds(steps, flat.ZeroGrad);
        var finiteCheckChunks = layout.Sum(g => (g.shape[0] + LossScaler.FiniteCheckChunkElements - 1) / LossScaler.FiniteCheckChunkElements);
        var chunks = layout.Sum(g => (g.shape[0] + FastaiAdam.DenominatorChunkElements - 1) / FastaiAdam.DenominatorChunkElements);
        Report("flat", flatAdam, flatUnscale, flatZero, (int)(layout.Count * 5 + chunks * 4), (int)(layout.Count + finiteCheckChunks * 3), layout.Count);
    }

    private static void Report(string kind, double adam, double unscale, double zero, int adamOps, int unscaleOps, int zeroOps) =>
        Console.WriteLine($"{kind,-10} adam step {adam,8:F0} ms ({adamOps,5} tensor ops)   unscale+finite-check {unscale,7:F0} ms ({unscaleOps,5} ops)   zero_grad {zero,6:F0} ms ({zeroOps,4} ops)");

    /// <summary>A real fit: vit_tiny at 32x32 on synthetic uint8 images augmented per batch, fp16 loss scaling, accumulation 16.</summary>
    private static void HostReadsPerMicroBatch()
    {
        manual_seed(0);
        const int batch = 4, microBatches = 16, accumulation = 16;
        using var model = new FastaiClassifier(ModelCatalog.Resolve("vit_tiny_patch16_224").Create(new ModelOptions(0, 32, 32)), numClasses: 10);
        var loader = new AugmentedSyntheticLoader(batch, microBatches, new BatchAugmentation(new ImageSize(32, 32), Normalization.Half));
        using var learner = new Learner(model, loader, loader, [new GradientAccumulation(accumulation), new MixedPrecision(ScalarType.Float16)]);
        var counter = new TrainPassReads();
        learner.Add(counter);
        learner.FitOneCycle(1, LrSlice.All(1e-3));
        int optimizerSteps = microBatches * batch / accumulation;
        Console.WriteLine(
            $"host reads, real fit (vit_tiny 32x32, fp16 loss scaler, {microBatches} micro-batches of {batch}, accumulation {accumulation}, augmentation): " +
            $"training pass {counter.Train}, i.e. {counter.Train / (double)microBatches:F2} per micro-batch, {counter.Train / (double)optimizerSteps:F2} per optimizer step; validation pass {counter.Valid}; epoch end {counter.EpochEnd}");
    }

    private sealed class TrainPassReads : Callback
    {
        private long start;
        public override int Order => 100;
        public long Train { get; private set; }
        public long Valid { get; private set; }
        public long EpochEnd { get; private set; }
        public override void BeforeTrain() => start = HostReads.Count;
        public override void AfterTrain() => Train = HostReads.Count - start;
        public override void BeforeValidate() => start = HostReads.Count;
        public override void AfterValidate()
        {
            Valid = HostReads.Count - start;
            start = HostReads.Count;
        }
        public override void AfterFit() => EpochEnd = HostReads.Count - start;
    }

    /// <summary>Random uint8 images pushed through the batch augmentation (train) or the plain resize (valid) per batch.</summary>
    private sealed class AugmentedSyntheticLoader(int batchSize, int batches, BatchAugmentation augmentation) : IBatchLoader
    {
        public int ItemCount => batchSize * batches;
        public int BatchSize => batchSize;
        public int BatchesPerEpoch => batches;

        public IEnumerable<Batch> Epoch(int epoch)
        {
            var random = new Random(epoch);
            var generator = new Generator((ulong)epoch + 1);
            for (var b = 0; b < batches; b++)
            {
                using var images = randint(0, 256, [batchSize, 3, 48, 48], dtype: ScalarType.Byte, generator: generator);
                yield return new Batch(augmentation.Train(images, random), randint(10, [batchSize], ScalarType.Int64, generator: generator));
            }
        }
    }
}
