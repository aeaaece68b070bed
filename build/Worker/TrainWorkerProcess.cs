using System.Diagnostics;
using System.Runtime.InteropServices;
using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build.Worker;

/// <summary>
/// The parent side of a Train task: starts the worker child process, streams its output live, and turns its
/// exit into the task's outcome. The child owns all GPU memory, so it is all returned when it ends, and a crash
/// or out-of-memory error fails this task alone. Ctrl-C is passed on to the child, which stops cleanly.
/// </summary>
public static class TrainWorkerProcess
{
    private const int SigInt = 2;

    /// <param name="taskName">The task the worker runs, for messages.</param>
    /// <param name="arguments">The worker's arguments (<see cref="TrainWorker.TrainArguments"/> or <see cref="TrainWorker.ProbeArguments"/>).</param>
    /// <param name="echo">Whether the worker's output is shown (it always goes to the task's log); off under --verbosity=quiet.</param>
    /// <param name="onLine">Sees every line the worker prints on standard output, as it prints it.</param>
    public static async Task RunAsync(string taskName, IEnumerable<string> arguments, bool echo, Action<string>? onLine = null)
    {
        var (program, prefix) = WorkerProgram();
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in prefix) start.ArgumentList.Add(argument);
        if (!Console.IsOutputRedirected) start.Environment[TrainJob.LiveProgressVariable] = "1";
        var device = arguments.LastOrDefault(a => a.StartsWith("--device=", StringComparison.Ordinal))?["--device=".Length..] ?? "auto";
        foreach (var (name, value) in WorkerEnvironment.For(device, CpuBudget.Cores, Environment.GetEnvironmentVariable))
            start.Environment[name] = value;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var child = Process.Start(start) ?? throw new CakeException("Could not start the training worker process.");
        var lastErrors = new Queue<string>();
        var output = Pump(child.StandardOutput, line =>
        {
            if (echo) Console.Out.WriteLine(line);
            onLine?.Invoke(line);
        });
        var errors = Pump(child.StandardError, line =>
        {
            Console.Error.WriteLine(line);
            lock (lastErrors)
            {
                lastErrors.Enqueue(line);
                if (lastErrors.Count > 20) lastErrors.Dequeue();
            }
        });

        bool cancelled = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C asks the child to stop after saving nothing partial; a second one kills it.
            e.Cancel = !cancelled;
            if (!cancelled && !child.HasExited) Kill(child.Id, SigInt);
            else if (!child.HasExited) child.Kill(entireProcessTree: true);
            cancelled = true;
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            await child.WaitForExitAsync();
            await Task.WhenAll(output, errors);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        var code = child.ExitCode;
        if (code == 0) return;
        if (code == TrainWorker.CancelledExitCode || cancelled)
            throw new OperationCanceledException($"{taskName} was cancelled; its last finished epoch is kept and the next run resumes from it.");
        string tail;
        lock (lastErrors) tail = string.Join(Environment.NewLine, lastErrors);
        throw new WorkerFailedException(code,
            $"{taskName} failed in its worker process (exit code {code}). Finished tasks keep their artifacts.{Environment.NewLine}{tail}");
    }

    /// <summary>A worker process that ended with an error; its exit code says what kind.</summary>
    public sealed class WorkerFailedException(int exitCode, string message) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }

    /// <summary>
    /// This same program: its own executable when it runs as one (an apphost, or a self-contained publish on a
    /// machine without .NET), else the dotnet host running its dll (tests; `dotnet Paddy.Build.dll`).
    /// </summary>
    private static (string Program, string[] Prefix) WorkerProgram()
    {
        var current = Environment.ProcessPath;
        var dll = typeof(TrainWorker).Assembly.Location;
        if (current is not null && Path.GetFileName(current) == Path.GetFileNameWithoutExtension(dll)) return (current, []);
        var dotnet = current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : "dotnet";
        return (dotnet, [dll]);
    }

    private static Task Pump(StreamReader reader, Action<string> onLine) => Task.Run(async () =>
    {
        while (await reader.ReadLineAsync() is { } line) onLine(line);
    });

    private static void Kill(int pid, int signal)
    {
        if (OperatingSystem.IsWindows()) return;
        _ = SendSignal(pid, signal);
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);
}
