using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Paddy.Pipeline.Training.Checkpoints;
using Paddy.Pipeline.Training.History;
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
    private float smoothValue;
    private double validLossTotal;
    private long validErrors;
    private long validSamples;

    public Recorder(IReadOnlyList<string> groupNames) => History = new TrainingHistory(groupNames);

    public override int Order => 50;

    public TrainingHistory History { get; }

    /// <summary>fastai's smooth_loss: the debiased exponential moving average of the training losses of this fit.</summary>
    public double SmoothLoss => smoothCount == 0 ? double.NaN : smoothValue / (1 - Math.Pow(SmoothingBeta, smoothCount));

    public double ValidLoss => validLossTotal / validSamples;

    public double ErrorRate => validErrors / (double)validSamples;

    string ICheckpointed.StateKey => "recorder";

    public override void BeforeFit()
    {
        smoothCount = 0;
        smoothValue = 0;
    }

    public override void BeforeEpoch() => epochClock.Restart();

    public override void BeforeValidate()
    {
        validLossTotal = 0;
        validErrors = 0;
        validSamples = 0;
    }

    public override void AfterBatch()
    {
        if (Learner.Loss is not { } loss) return;
        if (Learner.Training)
        {
            // torch.lerp(loss, val, beta) in float32, as fastai keeps it.
            float batchLoss = loss.mean().item<float>();
            smoothValue = batchLoss + SmoothingBeta * (smoothValue - batchLoss);
            smoothCount++;
            var hypers = Learner.Optimizer.Hyperparameters;
            History.Add(new ScheduleRecord(Learner.Phase, Learner.Epoch, Learner.Iteration,
                hypers.Select(h => h.LearningRate).ToArray(), hypers.Select(h => h.Beta1).ToArray()));
            return;
        }
        long size = Learner.Batch!.Size;
        validLossTotal += loss.mean().item<float>() * (double)size;
        validErrors += Learner.Predictions!.argmax(1).ne(Learner.Batch.Targets).sum().item<long>();
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
        ["smooth_value"] = JsonSerializer.SerializeToNode(smoothValue, JsonOptions),
        ["epochs"] = JsonSerializer.SerializeToNode(History.Epochs, JsonOptions),
        ["batches"] = JsonSerializer.SerializeToNode(History.Batches, JsonOptions),
    };

    void ICheckpointed.LoadState(JsonNode state)
    {
        smoothCount = state["smooth_count"]!.GetValue<int>();
        smoothValue = state["smooth_value"]!.Deserialize<float>(JsonOptions);
        History.ReplaceWith(
            state["epochs"]!.Deserialize<List<EpochRecord>>(JsonOptions)!,
            state["batches"]!.Deserialize<List<ScheduleRecord>>(JsonOptions)!);
    }
}
