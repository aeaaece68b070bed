using System.Globalization;
using System.Text;

namespace Paddy.Pipeline.Config;

/// <summary>The resolved pipeline written back as YAML in pipeline.yaml's own shape, every default made explicit.</summary>
public static class PipelineDescription
{
    public static string Render(PipelineConfig pipeline)
    {
        var text = new StringBuilder();
        text.AppendLine($"# {pipeline.SourcePath}, resolved");
        text.AppendLine($"name: {pipeline.Name}");
        text.AppendLine($"seed: {pipeline.Seed}");
        text.AppendLine($"memory_budget_mib: {pipeline.MemoryBudgetMiB}");
        text.AppendLine("data:");
        text.AppendLine($"  root: {pipeline.Data.Root}");
        text.AppendLine($"  valid_pct: {Number(pipeline.Data.ValidPct)}");
        text.AppendLine($"  skip_bad_images: {(pipeline.Data.SkipBadImages ? "true" : "false")}");
        text.AppendLine("models:");
        foreach (var model in pipeline.Models)
        {
            var t = model.Training;
            text.AppendLine($"  - arch: {model.Arch}            # task {model.TaskName}");
            text.AppendLine($"    weights: {model.Weights}");
            text.AppendLine($"    resize: {{ method: {model.Resize.Method.ToString().ToLowerInvariant()}, size: {Size(model.Resize.Size)} }}");
            text.AppendLine($"    size: {Size(model.Size)}");
            text.AppendLine($"    ensemble_weight: {Number(model.EnsembleWeight)}");
            text.AppendLine("    training:");
            text.AppendLine($"      method: {YamlNames.Of(t.Method)}");
            text.AppendLine($"      epochs: {t.Epochs}");
            if (t.Method == TrainingMethod.FineTune) text.AppendLine($"      freeze_epochs: {t.FreezeEpochs}");
            text.AppendLine($"      lr: {Number(t.Lr)}");
            text.AppendLine(t.IsAutoAccum
                ? $"      batch_size: {t.BatchSize}     # in micro-batches the memory probe chooses"
                : $"      batch_size: {t.BatchSize}     # {t.Accum} micro-batches of {t.MicroBatchSize}");
            text.AppendLine($"      accum: {(t.IsAutoAccum ? "auto" : t.Accum.ToString(CultureInfo.InvariantCulture))}");
            text.AppendLine($"      precision: {t.Precision.ToString().ToLowerInvariant()}");
            text.AppendLine($"      tta: {{ n: {t.Tta.Passes}, beta: {Number(t.Tta.Beta)} }}");
        }
        return text.ToString();
    }

    private static string Size(ImageSize size) => $"[{size.Height}, {size.Width}]";

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
