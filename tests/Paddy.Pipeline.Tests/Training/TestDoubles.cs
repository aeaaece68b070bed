using Paddy.Pipeline.Data;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using TorchSharp;
using BatchNorm1d = TorchSharp.Modules.BatchNorm1d;
using Dropout = TorchSharp.Modules.Dropout;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;
using Linear = Paddy.Pipeline.Models.Layers.Linear;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>Training tests share torch's global generator (model init, dropout, per-epoch seeding): run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training (torch global generator)";
}

/// <summary>A two-group model: body Linear -> LayerNorm [-> BatchNorm1d] -> ReLU, head [Dropout ->] Linear.</summary>
internal sealed class TinyClassifier : nn.Module<Tensor, Tensor>, IHasParameterGroups
{
    private readonly Linear bodyLinear;
    private readonly LayerNorm bodyNorm;
    private readonly BatchNorm1d? bodyBatchNorm;
    private readonly Dropout? headDropout;
    private readonly Linear headLinear;

    public TinyClassifier(int inputs, int hidden, int classes, bool batchNorm = false, double dropout = 0)
        : base(nameof(TinyClassifier))
    {
        bodyLinear = new Linear(inputs, hidden);
        bodyNorm = new LayerNorm(hidden, 1e-5);
        bodyBatchNorm = batchNorm ? nn.BatchNorm1d(hidden) : null;
        headDropout = dropout > 0 ? nn.Dropout(dropout) : null;
        headLinear = new Linear(hidden, classes);
        RegisterComponents();
    }

    /// <summary>Records the autocast type seen by each forward pass.</summary>
    public List<ScalarType?> ComputeTypes { get; } = [];

    public override Tensor forward(Tensor x)
    {
        ComputeTypes.Add(Paddy.Pipeline.Device.Autocast.ComputeType);
        using var scope = NewDisposeScope();
        var h = bodyNorm.forward(bodyLinear.forward(x));
        if (bodyBatchNorm is not null) h = bodyBatchNorm.forward(h);
        h = nn.functional.relu(h);
        if (headDropout is not null) h = headDropout.forward(h);
        return headLinear.forward(h).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<ParameterGroup> ParameterGroups()
    {
        var body = new List<TrainableParameter>
        {
            new("body.linear.weight", bodyLinear.weight, IsNorm: false, IsBias: false),
            new("body.linear.bias", bodyLinear.bias!, IsNorm: false, IsBias: true),
            new("body.norm.weight", bodyNorm.weight, IsNorm: true, IsBias: false),
            new("body.norm.bias", bodyNorm.bias, IsNorm: true, IsBias: true),
        };
        if (bodyBatchNorm is not null)
        {
            body.Add(new("body.batchnorm.weight", bodyBatchNorm.weight!, IsNorm: true, IsBias: false));
            body.Add(new("body.batchnorm.bias", bodyBatchNorm.bias!, IsNorm: true, IsBias: true));
        }
        var head = new List<TrainableParameter>
        {
            new("head.linear.weight", headLinear.weight, IsNorm: false, IsBias: false),
            new("head.linear.bias", headLinear.bias!, IsNorm: false, IsBias: true),
        };
        return [new ParameterGroup("body", body), new ParameterGroup("head", head)];
    }

    public static TinyClassifier Create(long seed, bool batchNorm = false, double dropout = 0)
    {
        manual_seed(seed);
        return new TinyClassifier(TinyData.Features, 8, TinyData.Classes, batchNorm, dropout);
    }
}

/// <summary>An in-memory loader whose shuffle order is a pure function of (seed, epoch).</summary>
internal sealed class InMemoryLoader(Tensor inputs, Tensor targets, int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false)
    : IBatchLoader
{
    public int ItemCount => (int)inputs.shape[0];
    public int BatchSize => batchSize;
    public int BatchesPerEpoch => dropLast ? ItemCount / batchSize : (ItemCount + batchSize - 1) / batchSize;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Enumerable.Range(0, ItemCount).Select(i => (long)i).ToArray();
        if (shuffle) new Random(seed * 7919 + epoch).Shuffle(order);
        for (int b = 0; b < BatchesPerEpoch; b++)
        {
            var indices = order.Skip(b * batchSize).Take(batchSize).ToArray();
            using var index = tensor(indices);
            yield return new Batch(inputs.index_select(0, index), targets.index_select(0, index));
        }
    }
}

/// <summary>A learnable toy problem: the class is the argmax of a fixed linear map of 4 features.</summary>
internal static class TinyData
{
    public const int Features = 4;
    public const int Classes = 3;

    public static (Tensor Inputs, Tensor Targets) Make(int count, long seed)
    {
        var generator = new Generator((ulong)seed);
        var inputs = randn([count, Features], generator: generator);
        var map = randn([Features, Classes], generator: generator);
        return (inputs, inputs.matmul(map).argmax(1));
    }

    public static (InMemoryLoader Train, InMemoryLoader Valid) Loaders(int trainCount, int validCount, int batchSize,
        bool shuffle = true, bool dropLast = true, long seed = 1)
    {
        var (x, y) = Make(trainCount + validCount, seed);
        var train = new InMemoryLoader(x[..trainCount], y[..trainCount], batchSize, shuffle, (int)seed, dropLast);
        var valid = new InMemoryLoader(x[trainCount..], y[trainCount..], batchSize);
        return (train, valid);
    }
}

/// <summary>Runs an action at chosen events, so tests can observe or steer the loop.</summary>
internal sealed class ProbeCallback(int order = 100) : Callback
{
    public override int Order => order;
    public Action<Learner>? OnAfterLoss { get; init; }
    public Action<Learner>? OnAfterBackward { get; init; }
    public Action<Learner>? OnBeforeStep { get; init; }
    public Action<Learner>? OnAfterStep { get; init; }
    public Action<Learner>? OnAfterBatch { get; init; }
    public Action<Learner>? OnAfterPred { get; init; }

    public override void AfterPred() => OnAfterPred?.Invoke(Learner);
    public override void AfterLoss() => OnAfterLoss?.Invoke(Learner);
    public override void AfterBackward() => OnAfterBackward?.Invoke(Learner);
    public override void BeforeStep() => OnBeforeStep?.Invoke(Learner);
    public override void AfterStep() => OnAfterStep?.Invoke(Learner);
    public override void AfterBatch() => OnAfterBatch?.Invoke(Learner);
}

/// <summary>A fresh folder under the temp directory, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("paddy-training-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class LearnerFactory
{
    /// <summary>A learner with a Train task's callbacks: per-epoch seeding, the table, checkpoints in the work folder, and optionally accumulation and mixed precision.</summary>
    public static Learner Create(TinyClassifier model, IBatchLoader train, IBatchLoader valid, string workFolder,
        ScalarType? mixedPrecision = null, int accumulationSamples = 0, TextWriter? output = null, string plan = "test plan")
    {
        var callbacks = new List<Callback>
        {
            new EpochSeeding(42),
            new ProgressPrinter(output ?? TextWriter.Null, live: false),
            new CheckpointCallback(workFolder, plan),
        };
        if (accumulationSamples > 0) callbacks.Add(new GradientAccumulation(accumulationSamples));
        if (mixedPrecision is { } halfType) callbacks.Add(new MixedPrecision(halfType));
        return new Learner(model, train, valid, callbacks);
    }

    public static CheckpointCallback Checkpointing(this Learner learner) => learner.Callbacks.OfType<CheckpointCallback>().Single();
}
