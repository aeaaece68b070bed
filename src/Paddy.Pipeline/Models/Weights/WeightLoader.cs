using Paddy.Pipeline.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>How to load: whether to leave out the pretrained classifier (a body for fine-tuning has none).</summary>
public sealed record WeightLoadOptions(bool DropClassifier = false);

/// <summary>
/// Strict loading of a safetensors file into a module by name. Every model parameter and persistent buffer must
/// come from the file with the same shape, and every file key must be used; all problems are reported together.
/// We copy with our own shape checks instead of load_state_dict, which copy_-broadcasts a [1] tensor into [N].
/// </summary>
/// <remarks>
/// TorchSharp 0.107 and non-persistent buffers (register_buffer(name, t, persistent: false)), measured: they are
/// left out of state_dict() as in PyTorch, but also out of named_buffers() whatever include_nonpersistent says
/// (the flag is ignored for a module's own buffers), and Module.to(device or dtype) does not move or convert
/// them (persistent buffers it does). get_buffer(dotted name) finds them, which is how file keys naming them
/// are recognised here. A model that keeps such buffers must move them itself (or compute them on the input's device).
/// </remarks>
public static class WeightLoader
{
    /// <summary>timm's classifier keys: "head" (ViT) or "head.fc" (ConvNeXt, Swin). head.norm is not classifier.</summary>
    private static readonly HashSet<string> ClassifierKeys = ["head.weight", "head.bias", "head.fc.weight", "head.fc.bias"];

    public static void Load(nn.Module module, string path, WeightLoadOptions? options = null)
    {
        using var file = SafeTensors.Load(path);
        Load(module, file, path, options);
    }

    public static void Load(nn.Module module, SafeTensorsFile file, string sourceName, WeightLoadOptions? options = null)
    {
        options ??= new WeightLoadOptions();
        var source = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in file.Tensors)
            if (!(options.DropClassifier && ClassifierKeys.Contains(key))) source[key] = tensor;
        var adapted = AdaptForFamily(module, source);
        try
        {
            var target = module.state_dict();
            var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
            var unexpected = new List<string>();
            var mismatched = new List<string>();
            var problems = new List<string>();
            foreach (var (key, tensor) in source)
            {
                if (target.TryGetValue(key, out var destination))
                {
                    if (!Fits(tensor, destination))
                    {
                        mismatched.Add(key);
                        problems.Add($"  {key}: file has {Describe(tensor)}, model needs {Describe(destination)}");
                    }
                }
                else if (module.get_buffer(key) is { } computed)
                {
                    if (!SameValue(tensor, computed))
                    {
                        mismatched.Add(key);
                        problems.Add($"  {key}: file value ({Describe(tensor)}) differs from the model's computed " +
                                     $"non-persistent buffer ({Describe(computed)})");
                    }
                }
                else
                {
                    unexpected.Add(key);
                }
            }
            if (missing.Count + unexpected.Count + mismatched.Count > 0)
                throw new WeightLoadException(Report(module, sourceName, missing, unexpected, problems), missing, unexpected, mismatched);
            using var noGrad = no_grad();
            foreach (var (key, destination) in target)
            {
                using var converted = source[key].to(destination.dtype, destination.device);
                destination.copy_(converted);
            }
        }
        finally
        {
            foreach (var tensor in adapted) tensor.Dispose();
        }
    }

    /// <summary>Runs the family's adaptation hook; returns the tensors it created (ours to dispose).</summary>
    private static List<Tensor> AdaptForFamily(nn.Module module, Dictionary<string, Tensor> source)
    {
        if (module is not IAdaptsPretrainedWeights family) return [];
        var before = new Dictionary<string, Tensor>(source);
        family.AdaptPretrainedWeights(source);
        if (source.Keys.Count != before.Keys.Count || source.Keys.Any(k => !before.ContainsKey(k)))
            throw new InvalidOperationException($"{module.GetName()}.AdaptPretrainedWeights may replace tensors but not add or remove keys.");
        return source.Where(p => !ReferenceEquals(p.Value, before[p.Key])).Select(p => p.Value).ToList();
    }

    /// <summary>Same shape exactly (no broadcasting); floating types convert, other types must match.</summary>
    private static bool Fits(Tensor file, Tensor model) =>
        file.shape.SequenceEqual(model.shape) &&
        (file.dtype == model.dtype || (file.is_floating_point() && model.is_floating_point()));

    private static bool SameValue(Tensor file, Tensor computed)
    {
        if (!file.shape.SequenceEqual(computed.shape)) return false;
        using var converted = file.to(computed.dtype, computed.device);
        return converted.eq(computed).all().item<bool>();
    }

    private static string Describe(Tensor t) => $"{t.dtype} [{string.Join(", ", t.shape)}]";

    private static string Report(nn.Module module, string sourceName, List<string> missing, List<string> unexpected,
        List<string> problems)
    {
        var lines = new List<string>
        {
            $"The weights file '{sourceName}' does not fit the {module.GetName()} model: {missing.Count} missing, " +
            $"{unexpected.Count} unexpected, {problems.Count} mismatched key(s).",
        };
        if (missing.Count > 0) lines.Add($"Missing from the file (the model has them): {string.Join(", ", missing)}");
        if (unexpected.Count > 0) lines.Add($"Unexpected in the file (the model has no such key): {string.Join(", ", unexpected)}");
        if (problems.Count > 0)
        {
            lines.Add("Mismatched:");
            lines.AddRange(problems);
        }
        lines.Add("Fix: make the model name, tag and constructor arguments match the ones the file was made for " +
                  "(a file for another size or variant will not fit), or replace the file if it is damaged; " +
                  "to reuse a body with a new classifier, load with DropClassifier.");
        return string.Join(Environment.NewLine, lines);
    }
}
