using System.Globalization;
using Cake.Core.Diagnostics;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build.Worker;

/// <summary>
/// One memory probe in its own worker process, so that each peak is that run's alone (a process's peak memory never
/// goes down). The search over accums and remembering its answers are <see cref="RunPlanning.ProbeRows"/>'s.
/// </summary>
public static class MemoryProber
{
    /// <summary>The probe's peak bytes; <see cref="ProbeOutOfMemoryException"/> when it ran out of memory.</summary>
    public static long? Measure(BuildContext context, CombinationConfig combination, int accum)
    {
        long? peak = null;
        try
        {
            TrainWorkerProcess.RunAsync(combination.TaskName, TrainWorker.ProbeArguments(context, combination, accum),
                context.Log.Verbosity > Verbosity.Quiet, line =>
            {
                if (line.StartsWith(TrainJob.PeakMemoryLinePrefix, StringComparison.Ordinal)
                    && long.TryParse(line[TrainJob.PeakMemoryLinePrefix.Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes))
                    peak = bytes;
            }).GetAwaiter().GetResult();
        }
        catch (TrainWorkerProcess.WorkerFailedException e) when (e.ExitCode is TrainWorker.OutOfMemoryExitCode or TrainWorker.KilledExitCode)
        {
            // 137 is SIGKILL, which is how the kernel's OOM killer ends a process that took too much host memory.
            throw new ProbeOutOfMemoryException(e.Message.Split('\n').Skip(1).LastOrDefault(l => l.Length > 0) ?? e.Message);
        }
        return peak;
    }
}
