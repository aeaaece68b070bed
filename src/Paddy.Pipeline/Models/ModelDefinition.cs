namespace Paddy.Pipeline.Models;

/// <summary>timm's pretrained_cfg for one tag: what the published weights expect.</summary>
public sealed record PretrainedConfig(
    int InputChannels,
    int InputHeight,
    int InputWidth,
    bool FixedInputSize,
    string Interpolation,
    double CropPct,
    double[] Mean,
    double[] Std,
    int NumClasses,
    string HubId)
{
    public static readonly double[] ImagenetMean = [0.485, 0.456, 0.406];
    public static readonly double[] ImagenetStd = [0.229, 0.224, 0.225];

    /// <summary>The "Inception" constants the augreg ViTs were trained with.</summary>
    public static readonly double[] InceptionMean = [0.5, 0.5, 0.5];
    public static readonly double[] InceptionStd = [0.5, 0.5, 0.5];
}

/// <summary>How to build a model: classes of its classifier (0 = none) and the input size (height, width).</summary>
public sealed record ModelOptions(int NumClasses, int ImageHeight, int ImageWidth);

/// <summary>
/// One named, tagged configuration as timm registers it (for example "convnext_large.fb_in22k"), with the
/// legacy names that select it (for example "convnext_large_in22k").
/// </summary>
public sealed record ModelDefinition(
    string Architecture,
    string Tag,
    bool IsDefaultTag,
    PretrainedConfig Pretrained,
    IReadOnlyList<string> Aliases,
    Func<ModelOptions, TimmModel> Create)
{
    public string Name => $"{Architecture}.{Tag}";
}
