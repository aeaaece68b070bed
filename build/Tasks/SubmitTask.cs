using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;

namespace Paddy.Build.Tasks;

[TaskName("Submit")]
[TaskDescription("Trains what is not up to date, ensembles, and writes artifacts/<pipeline>/submission.csv for Kaggle.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class SubmitTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var result = context.Ensemble ?? EnsembleTask.Ensemble(context);
        context.Log.Information($"Submission: {result.SubmissionPath} ({result.SubmissionRows} rows, sample_submission order).");
    }
}
