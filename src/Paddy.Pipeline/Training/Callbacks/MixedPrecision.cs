using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Training.Checkpoints;
using Paddy.Pipeline.Training.Optimization;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's MixedPrecision: autocast from before the forward pass until after the loss (validation too),
/// predictions cast to float32. For float16 a dynamic <see cref="LossScaler"/>, new at each fit as fastai
/// creates its GradScaler, scales the loss, unscales the gradients before the step and skips steps that
/// overflowed; bfloat16 has float32's range and needs no scaling. Weights and optimizer state stay float32.
/// </summary>
public sealed class MixedPrecision : Callback, ICheckpointed
{
    internal const int MixedPrecisionOrder = 10;

    private IDisposable? autocast;

    public MixedPrecision(ScalarType halfType)
    {
        if (halfType != ScalarType.Float16 && halfType != ScalarType.BFloat16)
            throw new ArgumentException($"Mixed precision runs in Float16 or BFloat16, not {halfType}.", nameof(halfType));
        HalfType = halfType;
    }

    public override int Order => MixedPrecisionOrder;

    public ScalarType HalfType { get; }

    /// <summary>The loss scaler of the current fit; null for bfloat16.</summary>
    public LossScaler? Scaler { get; private set; }

    string ICheckpointed.StateKey => "mixed_precision";

    public override void BeforeFit() => Scaler = HalfType == ScalarType.Float16 ? new LossScaler() : null;

    public override void BeforeBatch() => autocast = Autocast.Enable(HalfType);

    public override void AfterPred() => Learner.Predictions = Autocast.ToFloat32(Learner.Predictions!);

    public override void AfterLoss() => CloseAutocast();

    // A batch cancelled before its loss still has to leave autocast.
    public override void AfterBatch() => CloseAutocast();

    public override void BeforeBackward()
    {
        if (Scaler is not null) Learner.LossGrad = Scaler.ScaleLoss(Learner.LossGrad!);
    }

    public override void BeforeStep()
    {
        if (Scaler is not null && !Scaler.Unscale(Learner.Optimizer.StepGradients())) throw new CancelStepException();
    }

    public override void AfterStep() => Scaler?.Update();

    JsonNode ICheckpointed.SaveState() => Scaler is null
        ? new JsonObject()
        : new JsonObject { ["scale"] = Scaler.Scale, ["clean_steps"] = Scaler.CleanSteps };

    void ICheckpointed.LoadState(JsonNode state)
    {
        if (Scaler is null) return;
        Scaler.Restore(state["scale"]!.GetValue<double>(), state["clean_steps"]!.GetValue<int>());
    }

    private void CloseAutocast()
    {
        autocast?.Dispose();
        autocast = null;
    }
}
