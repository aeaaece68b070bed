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
            ["epochs_before_fit"] = learner.EpochsBeforeFit,
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

    /// <summary>
    /// The checkpoint in the work folder, or null. Refuses one written by a different plan, and one that is corrupt
    /// or truncated (a disk that filled up, a copy cut short) with what to do about it.
    /// </summary>
    public LoadedCheckpoint? LoadIfPresent(string plan)
    {
        if (File.Exists(TemporaryPath)) File.Delete(TemporaryPath);
        if (!File.Exists(FilePath)) return null;
        SafeTensorsFile file;
        try
        {
            file = SafeTensors.Load(FilePath);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw Corrupt(e.Message);
        }
        try
        {
            if (!file.Metadata.TryGetValue(MetadataKey, out var json))
                throw new InvalidDataException(
                    $"{FilePath} is not a training checkpoint (its metadata has no '{MetadataKey}'). Delete it to restart this task, or point the work folder elsewhere.");
            var header = ParseHeader(json);
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

    private JsonObject ParseHeader(string json)
    {
        try
        {
            if (JsonNode.Parse(json) is JsonObject header
                && header["plan"] is JsonValue plan && plan.TryGetValue<string>(out _)
                && header["phase"] is JsonValue phase && phase.TryGetValue<string>(out var phaseName)
                && Enum.TryParse<TrainingPhase>(phaseName, ignoreCase: true, out _)
                && header["epochs_before_fit"] is JsonValue before && before.TryGetValue<int>(out _)
                && header["epochs_done"] is JsonValue done && done.TryGetValue<int>(out _)
                && header["train_iteration"] is JsonValue iteration && iteration.TryGetValue<long>(out _)
                && header["adam_steps"] is JsonObject
                && header["callbacks"] is JsonObject)
                return header;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw Corrupt($"its '{MetadataKey}' metadata is not valid JSON: {e.Message}");
        }
        throw Corrupt($"its '{MetadataKey}' metadata lacks plan, phase, epochs_before_fit, epochs_done, train_iteration, adam_steps or callbacks");
    }

    private InvalidDataException Corrupt(string reason) => new(
        $"The resume checkpoint {FilePath} is corrupt or truncated, or was written by an older version ({reason}). Delete it to restart this task from its first epoch.");

    public void Delete()
    {
        File.Delete(FilePath);
        File.Delete(TemporaryPath);
    }
}
