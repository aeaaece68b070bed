using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Training.Checkpoints;
using Paddy.Pipeline.Training.History;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's Recorder with its default metrics: the smoothed training loss (AvgSmoothLoss, beta 0.98, debiased,
/// reset when a fit begins), the validation loss and error rate (means over validation samples), the epoch's
/// time, and the schedule of every training batch.
/// </summary>
public sealed class Recorder : Callback, ICheckpointed
{
    private const float SmoothingBeta = 0.98f;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly Stopwatch epochClock = new();
    private int smoothCount;
    // The running sums stay on the loss's device, so a batch costs no host read; they are read once an epoch.
    private Tensor? smoothValue;
    private float restoredSmoothValue;
    private Tensor? validLossTotal;
    private Tensor? validErrors;
    private long validSamples;

    public Recorder(IReadOnlyList<string> groupNames) => History = new TrainingHistory(groupNames);

    public override int Order => 50;

    public TrainingHistory History { get; }

    /// <summary>fastai's smooth_loss: the debiased exponential moving average of the training losses of this fit (a host read).</summary>
    public double SmoothLoss => smoothCount == 0 ? double.NaN : SmoothValue() / (1 - Math.Pow(SmoothingBeta, smoothCount));

    /// <summary>The mean validation loss of the last validation pass (a host read).</summary>
    public double ValidLoss => (validLossTotal is null ? 0.0 : HostReads.Item<double>(validLossTotal)) / validSamples;

    /// <summary>The error rate of the last validation pass (a host read).</summary>
    public double ErrorRate => (validErrors is null ? 0L : HostReads.Item<long>(validErrors)) / (double)validSamples;

    string ICheckpointed.StateKey => "recorder";

    public override void BeforeFit()
    {
        smoothCount = 0;
        ReplaceSmoothValue(0);
    }

    public override void BeforeEpoch() => epochClock.Restart();

    public override void BeforeValidate()
    {
        validLossTotal?.Dispose();
        validLossTotal = null;
        validErrors?.Dispose();
        validErrors = null;
        validSamples = 0;
    }

    public override void AfterBatch()
    {
        if (Learner.Loss is not { } loss) return;
        using var scope = NewDisposeScope();
        var batchLoss = loss.mean();
        if (Learner.Training)
        {
            // smooth + beta * (smooth - loss) in float32, as fastai's torch.lerp keeps it; on the device.
            smoothValue ??= tensor(restoredSmoothValue).DetachFromDisposeScope();
            if (smoothValue.device_type != batchLoss.device_type || smoothValue.device_index != batchLoss.device_index) Swap(ref smoothValue, smoothValue.to(batchLoss.device).DetachFromDisposeScope());
            using var beta = SmoothingBeta.ToScalar();
            smoothValue!.sub_(batchLoss).mul_(beta).add_(batchLoss, HeldScalars.One);
            smoothCount++;
            var hypers = Learner.Optimizer.Hyperparameters;
            History.Add(new ScheduleRecord(Learner.Phase, Learner.Epoch, Learner.Iteration,
                hypers.Select(h => h.LearningRate).ToArray(), hypers.Select(h => h.Beta1).ToArray()));
            return;
        }
        long size = Learner.Batch!.Size;
        using var sizeScalar = size.ToScalar();
        var weightedLoss = batchLoss.to_type(ScalarType.Float64).mul_(sizeScalar);
        var errors = Learner.Predictions!.argmax(1).ne(Learner.Batch.Targets).sum();
        if (validLossTotal is null) validLossTotal = weightedLoss.DetachFromDisposeScope();
        else validLossTotal.add_(weightedLoss, HeldScalars.One);
        if (validErrors is null) validErrors = errors.DetachFromDisposeScope();
        else validErrors.add_(errors, HeldScalars.One);
        validSamples += size;
    }

    public override void AfterEpoch()
    {
        var hypers = Learner.Optimizer.Hyperparameters;
        History.Add(new EpochRecord(Learner.Phase, Learner.Epoch, SmoothLoss, ValidLoss, ErrorRate,
            epochClock.Elapsed.TotalSeconds,
            hypers.Select(h => h.LearningRate).ToArray(), hypers.Select(h => h.Beta1).ToArray()));
    }

    JsonNode ICheckpointed.SaveState() => new JsonObject
    {
        ["smooth_count"] = smoothCount,
        ["smooth_value"] = JsonSerializer.SerializeToNode(SmoothValue(), JsonOptions),
        ["epochs"] = JsonSerializer.SerializeToNode(History.Epochs, JsonOptions),
        ["batches"] = JsonSerializer.SerializeToNode(History.Batches, JsonOptions),
    };

    void ICheckpointed.LoadState(JsonNode state)
    {
        smoothCount = state["smooth_count"]!.GetValue<int>();
        ReplaceSmoothValue(state["smooth_value"]!.Deserialize<float>(JsonOptions));
        History.ReplaceWith(
            state["epochs"]!.Deserialize<List<EpochRecord>>(JsonOptions)!,
            state["batches"]!.Deserialize<List<ScheduleRecord>>(JsonOptions)!);
    }

    private float SmoothValue() => smoothValue is null ? restoredSmoothValue : HostReads.Item<float>(smoothValue);

    private void ReplaceSmoothValue(float value)
    {
        smoothValue?.Dispose();
        smoothValue = null;
        restoredSmoothValue = value;
    }

    private static void Swap(ref Tensor? field, Tensor replacement)
    {
        field?.Dispose();
        field = replacement;
    }
}
