using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Checkpoints;

/// <summary>A checkpoint read from disk, waiting to be restored into the learner when its phase begins.</summary>
internal sealed class LoadedCheckpoint(string path, SafeTensorsFile file, JsonObject header) : IDisposable
{
    public TrainingPhase Phase { get; } = Enum.Parse<TrainingPhase>(header["phase"]!.GetValue<string>(), ignoreCase: true);

    /// <summary>Epochs of the fits before the one the checkpoint was written in (<see cref="Learner.EpochsBeforeFit"/>).</summary>
    public int EpochsBeforeFit { get; } = header["epochs_before_fit"]!.GetValue<int>();

    public int EpochsDone { get; } = header["epochs_done"]!.GetValue<int>();

    public void Restore(Learner learner)
    {
        RestoreModel(learner);
        RestoreOptimizer(learner);
        RestoreGradients(learner);
        var callbackStates = header["callbacks"]!.AsObject();
        foreach (var callback in learner.Callbacks.OfType<ICheckpointed>())
        {
            var state = callbackStates[callback.StateKey]
                ?? throw new InvalidDataException($"{path} has no state for '{callback.StateKey}'; it was written with other training callbacks. Delete it to restart this task.");
            callback.LoadState(state);
        }
        learner.TrainIteration = header["train_iteration"]!.GetValue<long>();
    }

    public void Dispose() => file.Dispose();

    private void RestoreModel(Learner learner)
    {
        var targets = learner.Model.state_dict();
        var saved = file.Tensors.Where(t => t.Key.StartsWith(CheckpointStore.ModelPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[CheckpointStore.ModelPrefix.Length..], t => t.Value);
        var unexpected = saved.Keys.Except(targets.Keys).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{path} holds model tensors this model lacks ({string.Join(", ", unexpected.Take(5))}); it belongs to another model. Delete it to start afresh.");
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            if (!saved.TryGetValue(name, out var source))
                throw new InvalidDataException($"{path} lacks the model tensor '{name}'; it belongs to another model. Delete it to start afresh.");
            if (!source.shape.SequenceEqual(target.shape) || source.dtype != target.dtype)
                throw new InvalidDataException(
                    $"{path}: model tensor '{name}' is {source.dtype} [{string.Join(",", source.shape)}] but the model has {target.dtype} [{string.Join(",", target.shape)}]. Delete it to start afresh.");
            target.copy_(source);
        }
    }

    private void RestoreGradients(Learner learner)
    {
        using var scope = NewDisposeScope();
        var saved = file.Tensors.Where(t => t.Key.StartsWith(CheckpointStore.GradientPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[CheckpointStore.GradientPrefix.Length..], t => t.Value);
        foreach (var trainable in learner.Groups.SelectMany(g => g.Parameters))
        {
            var parameter = trainable.Parameter;
            if (saved.TryGetValue(trainable.Name, out var gradient))
            {
                if (!gradient.shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"{path}: the gradient of '{trainable.Name}' has shape [{string.Join(",", gradient.shape)}] but the parameter has [{string.Join(",", parameter.shape)}]. Delete it to start afresh.");
                parameter.grad = gradient.to(parameter.dtype, parameter.device, copy: true).DetachFromDisposeScope();
            }
            else if (parameter.grad is not null)
            {
                parameter.grad = null;
            }
        }
    }

    private void RestoreOptimizer(Learner learner)
    {
        learner.Optimizer.ClearState();
        foreach (var (name, step) in header["adam_steps"]!.AsObject())
        {
            learner.Optimizer.RestoreState(name,
                file[CheckpointStore.GradAveragePrefix + name],
                file[CheckpointStore.SquareAveragePrefix + name],
                step!.GetValue<long>());
        }
    }
}
