using Paddy.Build.Frosting;

namespace Paddy.Build.Tasks;

/// <summary>Depends on every Train:&lt;combination&gt; task registered from pipeline.yaml.</summary>
[TaskName("Train")]
[TaskDescription("Trains every combination in the pipeline that is not up to date.")]
public sealed class TrainAllTask : FrostingTask<BuildContext>;
