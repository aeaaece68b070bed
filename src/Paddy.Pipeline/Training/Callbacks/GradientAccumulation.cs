using System.Text.Json.Nodes;
using Paddy.Pipeline.Training.Checkpoints;
using TorchSharp;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's GradientAccumulation(n_acc), counting samples: each batch's loss gradient is scaled by bs/n_acc, and
/// the optimizer steps (and gradients are zeroed) only once n_acc samples have been seen. The count resets only
/// when a fit begins, so a partial accumulation carries over an epoch boundary.
/// </summary>
public sealed class GradientAccumulation : Callback, ICheckpointed
{
    private long count;

    public GradientAccumulation(int samplesPerStep)
    {
        if (samplesPerStep < 1) throw new ArgumentOutOfRangeException(nameof(samplesPerStep), samplesPerStep, "Accumulate at least one sample per step.");
        SamplesPerStep = samplesPerStep;
    }

    /// <summary>fastai orders it before MixedPrecision, so that a skipped step never reaches the loss scaler.</summary>
    public override int Order => MixedPrecision.MixedPrecisionOrder - 4;

    public int SamplesPerStep { get; }

    /// <summary>Samples accumulated since the last step.</summary>
    public long Count => count;

    string ICheckpointed.StateKey => "gradient_accumulation";

    public override void BeforeFit() => count = 0;

    public override void AfterLoss()
    {
        if (!Learner.Training) return;
        using var divisor = (SamplesPerStep / (double)Learner.Batch!.Size).ToScalar();
        Learner.LossGrad = Learner.LossGrad!.div(divisor);
    }

    public override void BeforeStep()
    {
        count += Learner.Batch!.Size;
        if (count < SamplesPerStep) throw new CancelBatchException();
        count = 0;
    }

    JsonNode ICheckpointed.SaveState() => new JsonObject { ["count"] = count };

    void ICheckpointed.LoadState(JsonNode state) => count = state["count"]!.GetValue<long>();
}
