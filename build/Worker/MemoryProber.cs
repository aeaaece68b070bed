using System.Globalization;
using Cake.Core.Diagnostics;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build.Worker;

/// <summary>
/// Runs the accum search for a combination, one worker process per probe so that each peak is that run's alone
/// (a process's peak memory never goes down), and remembers the answer in the pipeline's .cache folder.
/// </summary>
public static class MemoryProber
{
    private const long MiB = 1024 * 1024;

    public static IReadOnlyList<ProbeRow> Probe(BuildContext context, CombinationConfig combination)
    {
        var budget = context.Pipeline.MemoryBudgetMiB * MiB;
        var cache = ProbeCache.For(context.Store);
        var key = ProbeCache.Key(combination, context.Planner.Data.Sha256, context.Device, budget);
        if (cache.Find(key) is { } known) return known;
        // A probe writes into the task's work folder: never beside another process training or probing the same task.
        using var taskLock = TaskLock.Acquire(TaskLock.FolderOf(context.Store),
            combination.Slug, combination.TaskName, message => context.Log.Information(message), CancellationToken.None);
        if (cache.Find(key) is { } probedMeanwhile) return probedMeanwhile;

        var rows = AccumSearch.Run(combination.TaskName, combination.Training.BatchSize, budget, accum =>
        {
            long? peak = null;
            TrainWorkerProcess.RunAsync(combination.TaskName, TrainWorker.ProbeArguments(context, combination, accum),
                context.Log.Verbosity > Verbosity.Quiet, line =>
            {
                if (line.StartsWith(TrainJob.PeakMemoryLinePrefix, StringComparison.Ordinal)
                    && long.TryParse(line[TrainJob.PeakMemoryLinePrefix.Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes))
                    peak = bytes;
            }).GetAwaiter().GetResult();
            return peak;
        });
        cache.Save(key, rows);
        return rows;
    }
}
