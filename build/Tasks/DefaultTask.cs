using Paddy.Build.Frosting;

namespace Paddy.Build.Tasks;

[TaskName("Default")]
[TaskDescription("Same as Submit.")]
[IsDependentOn(typeof(SubmitTask))]
public sealed class DefaultTask : FrostingTask<BuildContext>;
