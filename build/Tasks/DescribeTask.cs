using Paddy.Build.Frosting;
using Paddy.Pipeline.Config;

namespace Paddy.Build.Tasks;

[TaskName("Describe")]
[TaskDescription("Prints the pipeline as resolved: every default filled in, every path absolute.")]
public sealed class DescribeTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context) => Console.Out.Write(PipelineDescription.Render(context.Pipeline));
}
