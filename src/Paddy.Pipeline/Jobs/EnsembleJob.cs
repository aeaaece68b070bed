using CsvHelper;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Ensembling;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Reporting;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Jobs;

/// <summary>One model's figures in the ensemble summary; <paramref name="OnCommon"/> is its confusion matrix on the
/// images every member held out (null when there are none).</summary>
public sealed record MemberResult(string Task, double Weight, double ValidError, int ValidCount, ConfusionMatrix? OnCommon)
{
    public double? ErrorOnCommonItems => OnCommon?.ErrorRate;
}

/// <summary>What the ensemble did: each member, and the ensemble's confusion matrix on the images every member held
/// out, with the configured weights and with equal weights (the effect of the weights).</summary>
public sealed record EnsembleResult(IReadOnlyList<MemberResult> Members, int CommonValidCount, ConfusionMatrix? Weighted,
    ConfusionMatrix? EqualWeights, string SubmissionPath, int SubmissionRows)
{
    /// <summary>
    /// Below this many common images no ensemble figure is shown. At 100 images the Wilson 95% interval of an error
    /// near 50% is already ±9.6 points (at 10 images ±26 points), wider than the few points by which an ensemble
    /// usually beats its best member, so a smaller common set could only mislead.
    /// </summary>
    public const int MinimumCommonImages = 100;

    public bool IsMeasurable => CommonValidCount >= MinimumCommonImages && Weighted is not null;

    public double? EnsembleErrorOnCommonItems => IsMeasurable ? Weighted!.ErrorRate : null;

    public double? EqualWeightsErrorOnCommonItems => IsMeasurable ? EqualWeights!.ErrorRate : null;
}

/// <summary>
/// The seed's ensemble over finished Train artifacts: the weighted mean of their TTA test probabilities, argmax,
/// and a Kaggle submission in sample_submission order. The ensemble's validation error is measured on the training
/// images every member held out: all of them with data.split shared, few with per_model (each its own split).
/// </summary>
public static class EnsembleJob
{
    public const string SubmissionFileName = "submission.csv";

    public static EnsembleResult Run(ArtifactStore store, IReadOnlyList<(PlannedTask Plan, double Weight)> members)
    {
        if (members.Count == 0) throw new ArgumentException("The pipeline has no models to ensemble.", nameof(members));
        var notDone = members.FirstOrDefault(m => !m.Plan.IsUpToDate);
        if (notDone.Plan is not null)
            throw new InvalidOperationException($"{notDone.Plan.Combination.TaskName} has no finished artifact ({notDone.Plan.Reason}); run its Train task first.");

        var manifests = members.Select(m => m.Plan.Finished!).ToList();
        var first = manifests[0];
        foreach (var (manifest, plan) in manifests.Zip(members.Select(m => m.Plan)))
        {
            if (!manifest.Vocab.SequenceEqual(first.Vocab))
                throw new InvalidDataException($"{plan.Combination.TaskName} was trained with classes [{string.Join(", ", manifest.Vocab)}] but {members[0].Plan.Combination.TaskName} with [{string.Join(", ", first.Vocab)}]; retrain with --force.");
            if (!manifest.TestIds.SequenceEqual(first.TestIds))
                throw new InvalidDataException($"{plan.Combination.TaskName} predicted a different list of test images than {members[0].Plan.Combination.TaskName}; retrain with --force.");
        }

        using var scope = NewDisposeScope();
        var test = members.Select(m => new EnsembleMember(m.Plan.Combination.TaskName,
            Load(store, m.Plan, ArtifactFiles.TestProbabilities)[ArtifactFiles.ProbabilitiesKey], m.Weight)).ToList();
        var combined = WeightedEnsemble.Combine(test);

        var valid = members.Select(m => Load(store, m.Plan, ArtifactFiles.ValidPredictions)).ToList();
        var common = valid.Select(v => v[ArtifactFiles.ItemsKey].data<long>().ToHashSet())
            .Aggregate((a, b) => { a.IntersectWith(b); return a; })
            .Order().ToArray();
        var commonIndex = tensor(common);
        Tensor RowsOfCommon(SafeTensorsFile v)
        {
            var items = v[ArtifactFiles.ItemsKey];
            var order = argsort(items);
            var positions = searchsorted(items[order], commonIndex);
            return order[positions];
        }

        var classes = first.Vocab.Count;
        var memberResults = new List<MemberResult>();
        Tensor? commonTargets = null;
        var commonMembers = new List<EnsembleMember>();
        for (int i = 0; i < members.Count; i++)
        {
            var v = valid[i];
            ConfusionMatrix? onCommon = null;
            if (common.Length > 0)
            {
                var rows = RowsOfCommon(v);
                var probabilities = v[ArtifactFiles.ProbabilitiesKey][rows];
                commonTargets ??= v[ArtifactFiles.TargetsKey][rows];
                onCommon = ConfusionMatrix.From(probabilities, commonTargets, classes);
                commonMembers.Add(new EnsembleMember(members[i].Plan.Combination.TaskName, probabilities, members[i].Weight));
            }
            memberResults.Add(new MemberResult(members[i].Plan.Combination.TaskName, members[i].Weight,
                manifests[i].ValidError, manifests[i].ValidCount, onCommon));
        }
        ConfusionMatrix? weighted = null, equalWeights = null;
        if (commonTargets is not null)
        {
            weighted = ConfusionMatrix.From(WeightedEnsemble.Combine(commonMembers), commonTargets, classes);
            equalWeights = ConfusionMatrix.From(
                WeightedEnsemble.Combine(commonMembers.Select(m => m with { Weight = 1 }).ToList()), commonTargets, classes);
        }

        var submissionPath = Path.Combine(store.PipelineDirectory, SubmissionFileName);
        var predicted = combined.argmax(1).data<long>().ToArray();
        WriteSubmission(submissionPath, first.TestIds, predicted.Select(p => first.Vocab[(int)p]).ToList());
        SafeTensors.Save(Path.Combine(store.PipelineDirectory, "ensemble_test_probs.safetensors"),
            [new(ArtifactFiles.ProbabilitiesKey, combined)]);
        new EnsembleRecord(members.Select(m => new EnsembleMemberRecord(m.Plan.Combination.TaskName, m.Plan.Fingerprint, m.Weight)).ToList())
            .Write(store.PipelineDirectory);
        return new EnsembleResult(memberResults, common.Length, weighted, equalWeights, submissionPath, predicted.Length);
    }

    /// <summary>Kaggle's format: image_id,label, one row per sample_submission row, in its order; written atomically.</summary>
    public static void WriteSubmission(string path, IReadOnlyList<string> ids, IReadOnlyList<string> labels)
    {
        var temporary = path + ".tmp";
        using (var csv = CsvWriter.Create(new StreamWriter(temporary), new CsvWriterOptions(), leaveOpen: false))
        {
            csv.WriteRecord(["image_id", "label"]);
            for (int i = 0; i < ids.Count; i++) csv.WriteRecord([ids[i], labels[i]]);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static SafeTensorsFile Load(ArtifactStore store, PlannedTask plan, string file) =>
        SafeTensors.Load(Path.Combine(store.PathOf(plan.Combination.Slug), file));
}
