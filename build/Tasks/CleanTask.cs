using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;

namespace Paddy.Build.Tasks;

[TaskName("Clean")]
[TaskDescription("Deletes this pipeline's artifacts, checkpoints and caches (artifacts/<pipeline name>).")]
public sealed class CleanTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var folder = context.Store.PipelineDirectory;
        if (!Directory.Exists(folder))
        {
            context.Log.Information($"Nothing to clean: {folder} does not exist.");
            return;
        }
        Directory.Delete(folder, recursive: true);
        context.Log.Information($"Deleted {folder}.");
    }
}
