using System.Text.Json.Nodes;
using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Jobs;

/// <summary>One Train task's state, like a line of `dvc status`: up to date, or stale and every reason why.</summary>
public sealed record TaskStatus(string Task, bool UpToDate, IReadOnlyList<string> Reasons);

/// <summary>
/// Why a Train task would train, without training anything: the recorded fingerprint inputs against the current
/// ones, field by field, and the data listing the artifact was made from against today's, file by file.
/// </summary>
public static class StatusJob
{
    private const int FilesNamed = 5;

    /// <summary>
    /// Status's entry point: every Train task of the run's decisions, then the ensemble. A task without a plan (accum:
    /// auto with no remembered memory probe) is stale for the reason its decision gives; nothing is probed or trained.
    /// </summary>
    public static (IReadOnlyList<TaskStatus> Tasks, TaskStatus Ensemble) ExplainRun(ArtifactStore store,
        IReadOnlyList<(TrainDecision Decision, double Weight)> members, string dataListings)
    {
        var tasks = members.Select(m => m.Decision.Plan is { } plan
            ? Explain(store, plan, dataListings)
            : new TaskStatus(m.Decision.TaskName, false, [m.Decision.Reason])).ToList();
        var unplanned = members.Where(m => m.Decision.Plan is null).Select(m => m.Decision.TaskName).ToList();
        var ensemble = unplanned.Count == 0
            ? ExplainEnsemble(store, members.Select(m => (m.Decision.Plan!, m.Weight)).ToList())
            : new TaskStatus("Ensemble", false,
                [$"whether submission.csv is current cannot be said until {string.Join(", ", unplanned)} has a remembered memory probe"]);
        return (tasks, ensemble);
    }

    public static TaskStatus Explain(ArtifactStore store, PlannedTask plan, string dataListings)
    {
        var task = plan.Combination.TaskName;
        if (plan.IsUpToDate) return new TaskStatus(task, true, ["up to date"]);
        var manifestPath = Path.Combine(store.PathOf(plan.Combination.Slug), ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return new TaskStatus(task, false, [plan.Reason]);
        ArtifactManifest recorded;
        try
        {
            recorded = ArtifactManifest.Read(manifestPath);
        }
        catch (InvalidDataException e)
        {
            return new TaskStatus(task, false, [e.Message]);
        }
        if (recorded.Fingerprint == plan.Fingerprint) return new TaskStatus(task, false, [plan.Reason]);

        var reasons = new List<string>();
        foreach (var (path, before, after) in Differences("", recorded.FingerprintInputs, plan.Inputs.ToJson()))
        {
            reasons.AddRange(path switch
            {
                "data_sha256" => DataChanges(dataListings, before, after),
                "weights_sha256" => [$"the weights file changed (sha256 {Short(before)} -> {Short(after)})"],
                "code" => [$"the training code changed (library identity {Short(before)} -> {Short(after)})"],
                _ => [$"{path}: {before} -> {after}"],
            });
        }
        if (reasons.Count == 0) reasons.Add("its fingerprint differs (recorded by another version of this program)");
        return new TaskStatus(task, false, reasons);
    }

    /// <summary>
    /// Whether submission.csv is what Ensemble would write now: made from these members' current artifacts with
    /// these weights, and if not, why.
    /// </summary>
    public static TaskStatus ExplainEnsemble(ArtifactStore store, IReadOnlyList<(PlannedTask Plan, double Weight)> members)
    {
        const string task = "Ensemble";
        var record = EnsembleRecord.Read(store.PipelineDirectory);
        if (record is null || !File.Exists(Path.Combine(store.PipelineDirectory, EnsembleJob.SubmissionFileName)))
            return new TaskStatus(task, false, ["no submission yet"]);
        var used = record.Members.ToDictionary(m => m.Task, StringComparer.Ordinal);
        var reasons = new List<string>();
        foreach (var (plan, weight) in members)
        {
            var name = plan.Combination.TaskName;
            if (!used.TryGetValue(name, out var member))
            {
                reasons.Add($"{name} was not in the submission");
                continue;
            }
            if (!plan.IsUpToDate) reasons.Add($"{name} would train first");
            else if (member.Fingerprint != plan.Fingerprint) reasons.Add($"{name} was retrained since the submission was made");
            if (member.Weight != weight) reasons.Add($"{name}: ensemble_weight {member.Weight} -> {weight}");
        }
        var current = members.Select(m => m.Plan.Combination.TaskName).ToHashSet(StringComparer.Ordinal);
        reasons.AddRange(record.Members.Where(m => !current.Contains(m.Task)).Select(m => $"{m.Task} is no longer in the pipeline"));
        return reasons.Count == 0 ? new TaskStatus(task, true, ["up to date"]) : new TaskStatus(task, false, reasons);
    }

    /// <summary>Every leaf that differs between two JSON trees, with its dotted path.</summary>
    public static IEnumerable<(string Path, string Before, string After)> Differences(string prefix, JsonNode? before, JsonNode? after)
    {
        if (before is JsonObject a && after is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                foreach (var difference in Differences(prefix.Length == 0 ? key : $"{prefix}.{key}", a[key], b[key]))
                    yield return difference;
            }
            yield break;
        }
        var left = before?.ToJsonString() ?? "(none)";
        var right = after?.ToJsonString() ?? "(none)";
        if (left != right) yield return (prefix, left.Trim('"'), right.Trim('"'));
    }

    private static IEnumerable<string> DataChanges(string dataListings, string beforeSha, string afterSha)
    {
        var before = DataManifest.LoadListing(dataListings, beforeSha);
        var after = DataManifest.LoadListing(dataListings, afterSha);
        if (before is null || after is null)
        {
            yield return $"the data changed (listing sha256 {Short(beforeSha)} -> {Short(afterSha)}; the earlier file list was not kept, so which files cannot be said)";
            yield break;
        }
        var old = before.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var now = after.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var added = now.Keys.Where(p => !old.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
        var removed = old.Keys.Where(p => !now.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
        var changed = now.Keys.Where(p => old.TryGetValue(p, out var o) && o.Sha256 != now[p].Sha256).Order(StringComparer.Ordinal).ToList();
        foreach (var (what, files) in new[] { ("added", added), ("removed", removed), ("changed", changed) })
        {
            if (files.Count == 0) continue;
            var named = string.Join(", ", files.Take(FilesNamed));
            yield return $"data: {files.Count} file(s) {what}: {named}{(files.Count > FilesNamed ? $" and {files.Count - FilesNamed} more" : "")}";
        }
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
