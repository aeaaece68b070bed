using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Training.History;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Checkpoints;

/// <summary>
/// The resume checkpoint of a work folder: one safetensors file holding the model's state (parameters and
/// buffers), Adam's moments, and in its metadata the step counts, phase, epochs done and the callbacks' state.
/// One file, written to a temporary name and renamed, so a crash leaves either the old or the new checkpoint.
/// </summary>
internal sealed class CheckpointStore(string workFolder)
{
    internal const string MetadataKey = "paddy.checkpoint";
    internal const string ModelPrefix = "model/";
    internal const string GradAveragePrefix = "adam/grad_avg/";
    internal const string SquareAveragePrefix = "adam/sqr_avg/";
    internal const string GradientPrefix = "grad/";

    public string FilePath => Path.Combine(workFolder, "checkpoint.safetensors");

    private string TemporaryPath => FilePath + ".tmp";

    public void Save(Learner learner, string plan)
    {
        Directory.CreateDirectory(workFolder);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, tensor) in learner.Model.state_dict()) tensors.Add(new(ModelPrefix + name, tensor));
        var steps = new JsonObject();
        foreach (var (name, state) in learner.Optimizer.State)
        {
            tensors.Add(new(GradAveragePrefix + name, state.GradAverage));
            tensors.Add(new(SquareAveragePrefix + name, state.SquareAverage));
            steps[name] = state.Step;
        }
        // Gradients pending in a partial accumulation carry into the next epoch (and the next fit), so they are state too.
        using var scope = NewDisposeScope();
        foreach (var trainable in learner.Groups.SelectMany(g => g.Parameters))
            if (trainable.Parameter.grad is { } gradient) tensors.Add(new(GradientPrefix + trainable.Name, gradient));
        var callbackStates = new JsonObject();
        foreach (var callback in learner.Callbacks.OfType<ICheckpointed>()) callbackStates[callback.StateKey] = callback.SaveState();
        var header = new JsonObject
        {
            ["plan"] = plan,
            ["phase"] = TrainingHistory.PhaseName(learner.Phase),
            ["epochs_done"] = learner.Epoch + 1,
            ["train_iteration"] = learner.TrainIteration,
            ["adam_steps"] = steps,
            ["callbacks"] = callbackStates,
        };
        using (var stream = new FileStream(TemporaryPath, FileMode.Create, FileAccess.Write))
        {
            SafeTensors.Write(stream, tensors, new Dictionary<string, string> { [MetadataKey] = header.ToJsonString() });
            stream.Flush(flushToDisk: true);
        }
        File.Move(TemporaryPath, FilePath, overwrite: true);
    }

    /// <summary>The checkpoint in the work folder, or null; refuses one written by a different plan.</summary>
    public LoadedCheckpoint? LoadIfPresent(string plan)
    {
        if (File.Exists(TemporaryPath)) File.Delete(TemporaryPath);
        if (!File.Exists(FilePath)) return null;
        var file = SafeTensors.Load(FilePath);
        try
        {
            if (!file.Metadata.TryGetValue(MetadataKey, out var json) || JsonNode.Parse(json) is not JsonObject header)
                throw new InvalidDataException(
                    $"{FilePath} is not a training checkpoint (its metadata has no '{MetadataKey}'). Delete it, or point WorkFolder elsewhere.");
            var savedPlan = header["plan"]!.GetValue<string>();
            if (savedPlan != plan)
                throw new InvalidOperationException(
                    $"{FilePath} holds a checkpoint of a different training plan.{Environment.NewLine}  checkpoint: {savedPlan}{Environment.NewLine}  this run:   {plan}{Environment.NewLine}Run with the checkpoint's settings to resume it, or delete {FilePath} to start afresh.");
            return new LoadedCheckpoint(FilePath, file, header);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Delete()
    {
        File.Delete(FilePath);
        File.Delete(TemporaryPath);
    }
}
