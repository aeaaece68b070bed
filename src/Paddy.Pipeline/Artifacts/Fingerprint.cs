using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// What a Train task's result depends on, and its SHA-256. The ensemble weight is left out on purpose:
/// it changes the ensemble, not the model. The code identity is the library assembly's MVID, which a
/// deterministic build derives from the compiled code alone.
/// </summary>
public sealed record FingerprintInputs(
    JsonObject Combination,
    double ValidPct,
    bool SkipBadImages,
    int Seed,
    string DataSha256,
    string WeightsSha256,
    string CodeIdentity)
{
    public const int Format = 1;

    public static string CurrentCodeIdentity => typeof(Fingerprint).Assembly.ManifestModule.ModuleVersionId.ToString();

    public static FingerprintInputs For(PipelineConfig pipeline, CombinationConfig combination, string dataSha256,
        string weightsSha256, string? codeIdentity = null) =>
        new(Describe(combination), pipeline.Data.ValidPct, pipeline.Data.SkipBadImages, pipeline.Seed, dataSha256,
            weightsSha256, codeIdentity ?? CurrentCodeIdentity);

    public static JsonObject Describe(CombinationConfig c)
    {
        var t = c.Training;
        var training = new JsonObject { ["method"] = YamlNames.Of(t.Method), ["epochs"] = t.Epochs };
        // fit_one_cycle never freezes: its freeze_epochs is not an input, so changing it retrains nothing.
        if (t.Method == TrainingMethod.FineTune) training["freeze_epochs"] = t.FreezeEpochs;
        training["lr"] = t.Lr.ToString("R", CultureInfo.InvariantCulture);
        training["batch_size"] = t.BatchSize;
        training["accum"] = t.Accum;
        training["precision"] = YamlNames.Of(t.Precision);
        training["tta_n"] = t.Tta.Passes;
        training["tta_beta"] = t.Tta.Beta.ToString("R", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["arch"] = c.Arch,
            ["weights"] = c.Weights,
            ["resize"] = new JsonObject { ["method"] = c.Resize.Method.ToString().ToLowerInvariant(), ["size"] = Size(c.Resize.Size) },
            ["size"] = Size(c.Size),
            ["training"] = training,
        };

        static JsonArray Size(ImageSize s) => [s.Height, s.Width];
    }

    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["combination"] = Combination.DeepClone(),
        ["valid_pct"] = ValidPct.ToString("R", CultureInfo.InvariantCulture),
        ["skip_bad_images"] = SkipBadImages,
        ["seed"] = Seed,
        ["data_sha256"] = DataSha256,
        ["weights_sha256"] = WeightsSha256,
        ["code"] = CodeIdentity,
    };
}

public static class Fingerprint
{
    public static string Of(FingerprintInputs inputs) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(inputs.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false }))));
}
