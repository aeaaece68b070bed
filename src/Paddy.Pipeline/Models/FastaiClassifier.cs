using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// fastai's vision_learner model for a timm architecture: the body is the timm model without classifier,
/// the head is fastai's. ConvNeXt bodies hand their feature map to the head, which pools it (timm's head.norm is
/// skipped, as in fastai); ViT and Swin bodies hand over timm's own pooled pre-logits.
/// </summary>
public sealed class FastaiClassifier : nn.Module<Tensor, Tensor>, IHasParameterGroups
{
    public readonly TimmModel body;
    public readonly Sequential head;

    public FastaiClassifier(TimmModel body, int numClasses) : base(nameof(FastaiClassifier))
    {
        this.body = body;
        head = FastaiHead.Create(body.NumFeatures, numClasses, pool: body.FastaiPoolsFeatures);
        RegisterComponents();
    }

    /// <summary>
    /// Builds the body of <paramref name="definition"/> for (height, width) images without classifier, loads
    /// pretrained weights strictly (leaving out their classifier) when a path is given, and adds a new head.
    /// </summary>
    public static FastaiClassifier Create(ModelDefinition definition, int numClasses, int height, int width, string? weightsPath)
    {
        var body = definition.Create(new ModelOptions(NumClasses: 0, height, width));
        if (weightsPath is not null)
            WeightLoader.Load(body, weightsPath, new WeightLoadOptions(DropClassifier: true));
        return new FastaiClassifier(body, numClasses);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = body.forward_features(x);
        var bodyOutput = body.FastaiPoolsFeatures ? features : body.forward_head(features, preLogits: true);
        return head.forward(bodyOutput).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// fastai exempts a module's own .bias from weight decay (bn_bias_params), not every tensor whose name ends in
    /// "bias": SwinV2's attn.q_bias and attn.v_bias are decayed.
    /// </summary>
    private static bool IsModuleBias(string name) => name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal);

    /// <summary>fastai's split for timm models: [body, head].</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups()
    {
        var normParameters = named_modules()
            .Where(m => m.module is Layers.LayerNorm or BatchNorm1d)
            .SelectMany(m => m.module.named_parameters(recurse: false).Select(p => $"{m.name}.{p.name}"))
            .ToHashSet(StringComparer.Ordinal);
        ParameterGroup Group(string name) => new(name, named_parameters()
            .Where(p => p.name.StartsWith(name + ".", StringComparison.Ordinal))
            .Select(p => new TrainableParameter(p.name, p.parameter, normParameters.Contains(p.name),
                IsModuleBias(p.name)))
            .ToList());
        return [Group(nameof(body)), Group(nameof(head))];
    }
}
