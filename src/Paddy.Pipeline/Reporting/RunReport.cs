using System.Globalization;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Jobs;

namespace Paddy.Pipeline.Reporting;

/// <summary>One model of the report: its task, configured ensemble weight and finished artifact.</summary>
public sealed record ReportedModel(string Task, string Slug, double Weight, ArtifactManifest Manifest);

/// <summary>
/// The run report Submit writes to artifacts/&lt;pipeline&gt;/report/: per model the loss and error curves, the
/// schedule actually used, the confusion matrix and per-class error, time, memory, accumulation and precision; then
/// each model against the ensemble on the images all of them held out, and the effect of the weights.
/// </summary>
public static class RunReport
{
    public static string Write(ArtifactStore store, string pipelineName, IReadOnlyList<ReportedModel> models, EnsembleResult ensemble)
    {
        var folder = Path.Combine(store.PipelineDirectory, "report");
        Directory.CreateDirectory(folder);
        var document = new ReportDocument($"Paddy Pipeline run report: {pipelineName}");
        WriteEnsemble(document, folder, ensemble);
        foreach (var model in models) WriteModel(document, folder, store.PathOf(model.Slug), model);
        document.Save(folder);
        return Path.Combine(folder, "index.html");
    }

    private static void WriteEnsemble(ReportDocument document, string folder, EnsembleResult ensemble)
    {
        document.Heading("Ensemble");
        document.Paragraph($"Submission: {ensemble.SubmissionPath} ({ensemble.SubmissionRows} rows).");
        if (ensemble.CommonValidCount == 0)
        {
            document.Paragraph("No training image was held out by every model (each draws its own split), so the ensemble has no common validation set; each model's error below is on its own split.");
        }
        else
        {
            document.Paragraph($"Each model validated on its own random split; the {ensemble.CommonValidCount} images that every model held out are the common set the ensemble is measured on.");
        }
        document.Table(["model", "weight", "error on its own split", "images", $"error on the {ensemble.CommonValidCount} common"],
            ensemble.Members.Select(m => (IReadOnlyList<string>)[m.Task, Number(m.Weight), Percent(m.ValidError),
                m.ValidCount.ToString(CultureInfo.InvariantCulture), m.ErrorOnCommonItems is { } e ? Percent(e) : "-"]));
        if (ensemble.EnsembleErrorOnCommonItems is { } weighted && ensemble.EqualWeightsErrorOnCommonItems is { } equal)
        {
            document.Paragraph($"Ensemble error on the common images: {Percent(weighted)} with the configured weights, {Percent(equal)} with equal weights.");
            var bars = ensemble.Members.Select(m => (Short(m.Task), m.ErrorOnCommonItems ?? double.NaN))
                .Append(("ensemble", weighted)).Append(("ensemble (equal weights)", equal)).ToList();
            Charts.EnsembleComparison(bars, Path.Combine(folder, "ensemble.png"));
            document.Images(("ensemble.png", "validation error of each model and of the ensemble on the common images"));
        }
    }

    // Artifacts made before the method was configurable were all trained with fine_tune.
    private static string Method(System.Text.Json.Nodes.JsonNode? training) =>
        (training?["method"]?.GetValue<string>() ?? "fine_tune") switch
        {
            "fine_tune" => $"fine_tune({training?["epochs"]}, {training?["lr"]}), freeze_epochs {training?["freeze_epochs"]}",
            var method => $"{method}({training?["epochs"]}, {training?["lr"]})",
        };

    private static void WriteModel(ReportDocument document, string folder, string artifact, ReportedModel model)
    {
        var manifest = model.Manifest;
        var training = manifest.FingerprintInputs["combination"]?["training"];
        document.Heading(model.Task);
        document.Table(["figure", "value"],
        [
            ["validation error", Percent(manifest.ValidError)],
            ["validation loss", manifest.ValidLoss.ToString("F4", CultureInfo.InvariantCulture)],
            ["validation images", manifest.ValidCount.ToString(CultureInfo.InvariantCulture)],
            ["device", manifest.Device],
            ["method", Method(training)],
            ["precision", manifest.Precision],
            ["batch size / accumulation", $"{training?["batch_size"]} / {training?["accum"]}"],
            ["train time", TimeSpan.FromSeconds(manifest.TrainSeconds).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture)],
            ["peak memory", manifest.PeakMemoryBytes is { } peak ? $"{peak / (1024.0 * 1024):F0} MiB" : "not measured"],
        ]);

        var prefix = model.Slug;
        var history = TrainingCurves.Read(Path.Combine(artifact, ArtifactFiles.History));
        Charts.Losses(history, Path.Combine(folder, $"{prefix}-loss.png"));
        Charts.ErrorRate(history, Path.Combine(folder, $"{prefix}-error.png"));
        document.Images(($"{prefix}-loss.png", "loss per epoch"), ($"{prefix}-error.png", "validation error per epoch"));
        document.Table(["phase", "epoch", "train_loss", "valid_loss", "error_rate", "seconds"],
            history.Rows.Select((_, i) => (IReadOnlyList<string>)
            [
                history.Text("phase")[i], history.Text("epoch")[i], Fixed(history.Numbers("train_loss")[i]),
                Fixed(history.Numbers("valid_loss")[i]), Fixed(history.Numbers("error_rate")[i]),
                history.Numbers("seconds")[i].ToString("F1", CultureInfo.InvariantCulture),
            ]));

        // Artifacts made before schedule.csv existed still show the schedule, one point per epoch from history.csv.
        var schedulePath = Path.Combine(artifact, ArtifactFiles.Schedule);
        var (schedule, step) = File.Exists(schedulePath) ? (TrainingCurves.Read(schedulePath), "batch") : (history, "epoch");
        Charts.Schedule(schedule, step, Path.Combine(folder, $"{prefix}-lr.png"), Path.Combine(folder, $"{prefix}-beta1.png"));
        document.Images(($"{prefix}-lr.png", $"learning rate per {step}"), ($"{prefix}-beta1.png", $"beta1 per {step}"));

        using var predictions = SafeTensors.Load(Path.Combine(artifact, ArtifactFiles.ValidPredictions));
        var matrix = ConfusionMatrix.From(predictions[ArtifactFiles.ProbabilitiesKey], predictions[ArtifactFiles.TargetsKey], manifest.Vocab.Count);
        Charts.Confusion(matrix, manifest.Vocab, Path.Combine(folder, $"{prefix}-confusion.png"));
        document.Images(($"{prefix}-confusion.png", "confusion matrix"));
        document.Table(["actual \\ predicted", .. manifest.Vocab], manifest.Vocab.Select((label, c) => (IReadOnlyList<string>)
            [label, .. Enumerable.Range(0, matrix.Classes).Select(p => matrix.Counts[c, p].ToString(CultureInfo.InvariantCulture))]));
        var perClass = matrix.PerClassError;
        document.Table(["class", "validation images", "error"], manifest.Vocab.Select((label, c) => (IReadOnlyList<string>)
        [
            label, Enumerable.Range(0, matrix.Classes).Sum(p => matrix.Counts[c, p]).ToString(CultureInfo.InvariantCulture),
            double.IsNaN(perClass[c]) ? "-" : Percent(perClass[c]),
        ]));
    }

    private static string Short(string task) => task.StartsWith("Train:", StringComparison.Ordinal) ? task[6..] : task;

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);

    private static string Fixed(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
