using System.Globalization;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;

namespace Paddy.Build.Worker;

/// <summary>
/// The child side of a Train task: this same program started as "worker" with the task's pipeline, name and
/// fingerprint. It trains, writes the artifact atomically and exits; Ctrl-C (SIGINT) stops it between batches
/// with exit code 130 and no partial artifact, keeping the last epoch checkpoint for the next run.
/// </summary>
public static class TrainWorker
{
    public const string Command = "worker";
    public const int CancelledExitCode = 130;

    /// <summary>The worker's exit code when the run did not fit in memory (the answer a memory probe looks for).</summary>
    public const int OutOfMemoryExitCode = 4;

    /// <summary>The exit code of a process ended by SIGKILL, as the kernel's OOM killer ends one.</summary>
    public const int KilledExitCode = 137;

    /// <summary>Train the planned task (its accum resolved) and write its artifact.</summary>
    public static IEnumerable<string> TrainArguments(BuildContext context, PlannedTask plan) =>
    [
        Command,
        $"--pipeline={context.PipelinePath}",
        $"--artifacts={context.ArtifactsRoot}",
        $"--task={plan.Combination.TaskName}",
        $"--accum={plan.Combination.Training.Accum}",
        $"--fingerprint={plan.Fingerprint}",
        $"--device={context.Device}",
    ];

    /// <summary>Measure the peak memory of a short run of the task at one accum (see TrainJob.Probe).</summary>
    public static IEnumerable<string> ProbeArguments(BuildContext context, CombinationConfig combination, int accum) =>
    [
        Command,
        $"--pipeline={context.PipelinePath}",
        $"--artifacts={context.ArtifactsRoot}",
        $"--task={combination.TaskName}",
        $"--accum={accum}",
        "--probe",
        $"--device={context.Device}",
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var options = args.Select(a => a.TrimStart('-').Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "true", StringComparer.Ordinal);
        string Option(string key) => options.TryGetValue(key, out var value)
            ? value
            : throw new ArgumentException($"The worker needs --{key}=...; it is started by a Train task, not by hand.");

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        try
        {
            var pipeline = PipelineLoader.Load(Option("pipeline"), ModelCatalog.Names);
            var taskName = Option("task");
            var configured = pipeline.Models.FirstOrDefault(m => m.TaskName == taskName)
                ?? throw new ArgumentException($"{pipeline.SourcePath} has no combination for {taskName}.");
            var accum = int.Parse(Option("accum"), CultureInfo.InvariantCulture);
            var combination = configured with { Training = configured.Training with { Accum = accum } };
            var store = new ArtifactStore(Path.Combine(Option("artifacts"), pipeline.Name));
            var plan = new TaskPlanner(pipeline, store).Plan(combination);
            var request = new TrainRequest(pipeline, plan, store, Option("device"));
            if (options.ContainsKey("probe"))
            {
                await Task.Run(() => TrainJob.Probe(request, accum, Console.Out, cancellation.Token));
                return 0;
            }
            if (plan.Fingerprint != Option("fingerprint"))
                throw new InvalidOperationException($"The inputs of {taskName} changed while it was starting; run the build again.");
            await Task.Run(() => TrainJob.Run(request, Console.Out, cancellation.Token));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Training cancelled; the last finished epoch is checkpointed and the next run resumes from it.");
            return CancelledExitCode;
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (IsOutOfMemory(e))
        {
            Console.Error.WriteLine($"error: out of memory: {e.Message.Split('\n')[0]}");
            return OutOfMemoryExitCode;
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // An error inside libtorch: where it was called from is what a bug report needs.
            Console.Error.WriteLine($"error in libtorch: {e}");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>libtorch's allocation failures: CUDA's "CUDA out of memory", the CPU allocator's "not enough memory".</summary>
    private static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase);
}
