using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// One trainable parameter as fastai sees it: norm-layer parameters stay trainable when the body is frozen,
/// and neither norm parameters nor biases get weight decay.
/// </summary>
public sealed record TrainableParameter(string Name, TorchSharp.Modules.Parameter Parameter, bool IsNorm, bool IsBias)
{
    public bool ExemptFromWeightDecay => IsNorm || IsBias;
}

/// <summary>A named parameter group (fastai's splitter output: "body", then "head").</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<TrainableParameter> Parameters);

/// <summary>A model that fastai-style training can split into parameter groups.</summary>
public interface IHasParameterGroups
{
    IReadOnlyList<ParameterGroup> ParameterGroups();
}
