using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Reporting;

namespace Paddy.Pipeline.Jobs;

/// <summary>What Submit made: the ensemble (submission.csv), the report's path, and the models it reported.</summary>
public sealed record SubmitResult(EnsembleResult Ensemble, string ReportPath, IReadOnlyList<ReportedModel> Models);

/// <summary>Submit's entry point: the ensemble (made now unless Ensemble ran in this build) and the run report.</summary>
public static class SubmitJob
{
    /// <param name="planOf">Each combination's plan as the run decided it; every one must be finished.</param>
    /// <param name="ensembled">The Ensemble task's result when it ran in this build (not under --exclusive).</param>
    public static SubmitResult Run(ArtifactStore store, PipelineConfig pipeline, Func<CombinationConfig, PlannedTask> planOf,
        EnsembleResult? ensembled)
    {
        var plans = pipeline.Models.Select(m => (Combination: m, Plan: planOf(m))).ToList();
        var ensemble = ensembled ?? EnsembleJob.Run(store, plans.Select(p => (p.Plan, p.Combination.EnsembleWeight)).ToList());
        var models = plans.Select(p => new ReportedModel(p.Combination.TaskName, p.Combination.Slug, p.Combination.EnsembleWeight, p.Plan.Finished!))
            .ToList();
        return new SubmitResult(ensemble, RunReport.Write(store, pipeline.Name, models, ensemble), models);
    }
}
