using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Jobs;

public sealed record TrainRequest(PipelineConfig Pipeline, PlannedTask Plan, ArtifactStore Store, string Device);

public static class TrainJob
{
    public static ArtifactManifest Run(TrainRequest request, TextWriter output, CancellationToken cancellation) =>
        throw new InvalidOperationException("wiring in progress");
}
