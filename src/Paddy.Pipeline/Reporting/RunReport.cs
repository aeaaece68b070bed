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
    /// <param name="score">The test score against known labels, when a solution was available.</param>
    public static string Write(ArtifactStore store, string pipelineName, IReadOnlyList<ReportedModel> models, EnsembleResult ensemble,
        ScoreResult? score = null)
    {
        var folder = Path.Combine(store.PipelineDirectory, "report");
        Directory.CreateDirectory(folder);
        var document = new ReportDocument($"Paddy Pipeline run report: {pipelineName}");
        if (score is not null) WriteScore(document, score);
        WriteEnsemble(document, folder, models, ensemble);
        foreach (var model in models) WriteModel(document, folder, store.PathOf(model.Slug), model);
        document.Save(folder);
        return Path.Combine(folder, "index.html");
    }

    private static void WriteEnsemble(ReportDocument document, string folder, IReadOnlyList<ReportedModel> models, EnsembleResult ensemble)
    {
        document.Heading("Ensemble");
        document.Paragraph($"Submission: {ensemble.SubmissionPath} ({ensemble.SubmissionRows} rows).");
        var common = ensemble.CommonValidCount;
        document.Paragraph(SplitOf(models) == "shared"
            ? $"data.split is shared: every model held out the same {common} images (drawn from the pipeline seed), so each model and the ensemble are measured on the same images."
            : $"data.split is per_model (the notebook's): each model validated on its own random split, and {common} image(s) were held out by every model.");
        document.Paragraph("Every error below comes with its Wilson score 95% confidence interval (z = 1.96).");
        document.Table(["model", "weight", "error on its own split", "images"],
            ensemble.Members.Select(m => (IReadOnlyList<string>)[m.Task, Number(m.Weight),
                new MeasuredError((int)Math.Round(m.ValidError * m.ValidCount), m.ValidCount).ToString(), m.ValidCount.ToString(CultureInfo.InvariantCulture)]));
        if (!ensemble.IsMeasurable)
        {
            document.Paragraph($"No ensemble figure: with fewer than {EnsembleResult.MinimumCommonImages} common images the interval of an error near 50% is wider than ±10 points, " +
                               "too wide to compare the ensemble with its members. Set data.split: shared to hold out the same images for every model.");
            return;
        }

        var compared = ensemble.Members.Select(m => (Name: m.Task, Matrix: m.OnCommon!))
            .Append((Name: "ensemble, configured weights", Matrix: ensemble.Weighted!))
            .Append((Name: "ensemble, equal weights", Matrix: ensemble.EqualWeights!)).ToList();
        document.Paragraph($"On the {common} images every model held out:");
        document.Table(["", $"error on the {common} common images"],
            compared.Select(c => (IReadOnlyList<string>)[c.Name, MeasuredError.Of(c.Matrix).ToString()]));
        Charts.EnsembleComparison(compared.Select(c => (Short(c.Name), c.Matrix.ErrorRate)).ToList(), Path.Combine(folder, "ensemble.png"));
        document.Images(("ensemble.png", "validation error of each model and of the ensemble on the common images"));

        var vocab = models[0].Manifest.Vocab;
        var perClass = compared.Select(c => c.Matrix.PerClassError).ToList();
        document.Table(["class", "images", .. compared.Select(c => Short(c.Name))], vocab.Select((label, k) => (IReadOnlyList<string>)
        [
            label, Enumerable.Range(0, vocab.Count).Sum(p => ensemble.Weighted!.Counts[k, p]).ToString(CultureInfo.InvariantCulture),
            .. perClass.Select(errors => double.IsNaN(errors[k]) ? "-" : Percent(errors[k])),
        ]));
    }

    private static void WriteScore(ReportDocument document, ScoreResult score)
    {
        var all = score.Models.Prepend(score.Submission).ToList();
        var images = score.Submission.Matrix.Total;
        document.Heading("Test score");
        document.Paragraph($"Against the known labels of {images} test images in {score.SolutionPath}.");
        document.Table(["predictions", "test accuracy", "test error"], all.Select(s => (IReadOnlyList<string>)
            [s.Name, Percent(s.Accuracy), MeasuredError.Of(s.Matrix).ToString()]));
        document.Table(["class", "test images", .. all.Select(s => $"{Short(s.Name)} error")], score.Vocab.Select((label, k) => (IReadOnlyList<string>)
        [
            label, Enumerable.Range(0, score.Vocab.Count).Sum(p => score.Submission.Matrix.Counts[k, p]).ToString(CultureInfo.InvariantCulture),
            .. all.Select(s => double.IsNaN(s.Matrix.PerClassError[k]) ? "-" : Percent(s.Matrix.PerClassError[k])),
        ]));
        document.Paragraph($"Confusion matrix of {score.Submission.Name} on the test images:");
        ConfusionTable(document, score.Vocab, score.Submission.Matrix);
    }

    /// <summary>The data.split the models were trained with, as their fingerprints recorded it.</summary>
    private static string SplitOf(IReadOnlyList<ReportedModel> models) =>
        models.Select(m => m.Manifest.FingerprintInputs["split"]?.GetValue<string>()).FirstOrDefault() ?? "per_model";

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
        ConfusionTable(document, manifest.Vocab, matrix);
        var perClass = matrix.PerClassError;
        document.Table(["class", "validation images", "error"], manifest.Vocab.Select((label, c) => (IReadOnlyList<string>)
        [
            label, Enumerable.Range(0, matrix.Classes).Sum(p => matrix.Counts[c, p]).ToString(CultureInfo.InvariantCulture),
            double.IsNaN(perClass[c]) ? "-" : Percent(perClass[c]),
        ]));
    }

    private static void ConfusionTable(ReportDocument document, IReadOnlyList<string> vocab, ConfusionMatrix matrix) =>
        document.Table(["actual \\ predicted", .. vocab], vocab.Select((label, c) => (IReadOnlyList<string>)
            [label, .. Enumerable.Range(0, matrix.Classes).Select(p => matrix.Counts[c, p].ToString(CultureInfo.InvariantCulture))]));

    private static string Short(string task) => task.StartsWith("Train:", StringComparison.Ordinal) ? task[6..] : task;

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);

    private static string Fixed(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
