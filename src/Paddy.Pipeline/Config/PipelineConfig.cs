namespace Paddy.Pipeline.Config;

/// <summary>An image size as fastai's batch transforms take it: height first, then width.</summary>
public readonly record struct ImageSize(int Height, int Width)
{
    public override string ToString() => $"{Height}x{Width}";
}

public enum ResizeMethod
{
    /// <summary>The largest region with the target's aspect ratio (random position on train, centred otherwise), resized.</summary>
    Crop,
    /// <summary>The whole image resized to the target size, ignoring its aspect ratio.</summary>
    Squish,
}

public enum Precision { Fp32, Fp16, Bf16 }

/// <summary>How a model trains; pipeline.yaml writes these in snake case (fine_tune, fit_one_cycle).</summary>
public enum TrainingMethod
{
    /// <summary>fastai's fine_tune: the body frozen for freeze_epochs, then everything at slice(lr/200, lr/2); meant for pretrained bodies.</summary>
    FineTune,
    /// <summary>The notebook's finetune=False: unfreeze, then fastai's fit_one_cycle(epochs, lr) with its defaults; for bodies trained from scratch.</summary>
    FitOneCycle,
}

/// <summary>The names pipeline.yaml uses for enum values: snake case of the C# name (FitOneCycle is fit_one_cycle, Fp16 is fp16).</summary>
public static class YamlNames
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum =>
        string.Concat(value.ToString().Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>fastai's Resize item transform: random crop on train, centre crop on valid/test, or squish.</summary>
public sealed record ItemResize(ImageSize Size, ResizeMethod Method)
{
    public override string ToString() => $"{Method.ToString().ToLowerInvariant()}-{Size}";
}

public sealed record TtaSettings(int Passes, double Beta);

/// <summary>How one model is trained: fastai's fine_tune(Epochs, Lr) or fit_one_cycle (see <see cref="Method"/>) with these loader and precision settings.</summary>
public sealed record TrainingSettings(
    int Epochs,
    int FreezeEpochs,
    double Lr,
    int BatchSize,
    int Accum,
    Precision Precision,
    TtaSettings Tta)
{
    /// <summary>accum: auto in pipeline.yaml; the memory probe picks the smallest accum that fits the budget.</summary>
    public const int AutoAccum = 0;

    /// <summary>fine_tune (the default) or fit_one_cycle; FreezeEpochs applies to fine_tune only.</summary>
    public TrainingMethod Method { get; init; } = TrainingMethod.FineTune;

    public bool IsAutoAccum => Accum == AutoAccum;

    /// <summary>The loader's batch size: fastai's notebook passes bs = 64 // accum and counts 64 samples per step.</summary>
    public int MicroBatchSize => IsAutoAccum
        ? throw new InvalidOperationException("accum: auto has not been resolved by the memory probe yet.")
        : BatchSize / Accum;
}

public sealed record DataSettings(string Root, double ValidPct, bool SkipBadImages);

/// <summary>One (architecture, preprocessing) combination: one cached Train task and one artifact.</summary>
public sealed record CombinationConfig(
    string Arch,
    string Weights,
    ItemResize Resize,
    ImageSize Size,
    double EnsembleWeight,
    TrainingSettings Training)
{
    /// <summary>Stable, readable task name, e.g. Train:convnext_large_in22k:crop-640x480:320x224.</summary>
    public string TaskName => $"Train:{Key}";

    /// <summary>The combination's identity within a pipeline: architecture, item resize, model input size.</summary>
    public string Key => $"{Arch}:{Resize}:{Size}";

    /// <summary>A folder-safe form of <see cref="Key"/>.</summary>
    public string Slug => Key.Replace(':', '_');
}

/// <summary>A validated pipeline.yaml with every default resolved and every path absolute.</summary>
public sealed record PipelineConfig(
    string Name,
    string SourcePath,
    int Seed,
    DataSettings Data,
    IReadOnlyList<CombinationConfig> Models,
    long MemoryBudgetMiB = PipelineConfig.KaggleGpuMiB)
{
    /// <summary>What a Kaggle P100/T4 notebook could use, the budget the seed tuned its accum values for.</summary>
    public const long KaggleGpuMiB = 16_280;
}
