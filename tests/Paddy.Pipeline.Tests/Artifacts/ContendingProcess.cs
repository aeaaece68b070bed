using System.Diagnostics;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Tests.Build;

namespace Paddy.Pipeline.Tests.Artifacts;

/// <summary>
/// This test assembly started as a program of its own (dotnet Paddy.Pipeline.Tests.dll &lt;mode&gt; ...), so that
/// locks and the shared cache are contended by real, separate processes that can be killed with SIGKILL.
/// </summary>
public static class ContendingProcess
{
    public const string Holding = "holding";
    public const string Acquired = "acquired";
    public const string ChildPrefix = "child ";

    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["hold-task-lock", var folder, var slug, var task, .. var rest]:
                using (TaskLock.Acquire(folder, slug, task, Console.WriteLine, CancellationToken.None))
                {
                    Console.WriteLine(Holding);
                    // A worker-like child started while the lock is held, as TrainTask starts its worker.
                    if (rest is ["--with-child"])
                        Console.WriteLine(ChildPrefix + Process.Start("sleep", "600").Id);
                    Thread.Sleep(Timeout.Infinite);
                }
                return 0;
            case ["wait-task-lock", var folder, var slug, var task]:
                using (TaskLock.Acquire(folder, slug, task, Console.WriteLine, CancellationToken.None, TimeSpan.FromMilliseconds(100)))
                    Console.WriteLine(Acquired);
                return 0;
            case ["save-shared-cache", var root, var fingerprint, var artifactFolder, var times]:
                var cache = new SharedArtifactCache(root);
                for (var i = 0; i < int.Parse(times, System.Globalization.CultureInfo.InvariantCulture); i++)
                    cache.Save(fingerprint, artifactFolder);
                Console.WriteLine("saved");
                return 0;
            default:
                Console.Error.WriteLine($"unknown mode: {string.Join(' ', args)}");
                return 2;
        }
    }

    /// <summary>Starts this assembly as a program in the given mode, its output redirected, lines collected as printed.</summary>
    public static Started Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(BuildProgram.Dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ContendingProcess).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return new Started(Process.Start(start)!);
    }

    public sealed class Started : IDisposable
    {
        private readonly List<string> lines = [];

        public Started(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lock (lines) lines.Add(line); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (lines) lines.Add("stderr: " + line); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public IReadOnlyList<string> Lines
        {
            get { lock (lines) return [.. lines]; }
        }

        public string Output => string.Join(Environment.NewLine, Lines);

        /// <summary>The first line matching, waiting for it at most <paramref name="timeout"/>.</summary>
        public string WaitForLine(Func<string, bool> matches, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (Lines.FirstOrDefault(matches) is { } line) return line;
                if (Process.HasExited) return LineAfterExit(matches);
                Thread.Sleep(20);
            }
            throw new TimeoutException($"No such line within {timeout}:\n{Output}");
        }

        /// <summary>
        /// The output events can arrive after the exit is seen, and waiting for the end of the output could hang on an
        /// orphaned grandchild holding the pipe: the last lines get a bounded moment.
        /// </summary>
        private string LineAfterExit(Func<string, bool> matches)
        {
            var drained = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (DateTime.UtcNow < drained)
            {
                if (Lines.FirstOrDefault(matches) is { } line) return line;
                Thread.Sleep(20);
            }
            throw new InvalidOperationException($"The process ended (exit code {Process.ExitCode}) without the line awaited:\n{Output}");
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            // Bounded: an orphaned grandchild (the sleep) may still hold the output pipe open.
            Process.WaitForExit(TimeSpan.FromSeconds(10));
            Process.Dispose();
        }
    }
}
