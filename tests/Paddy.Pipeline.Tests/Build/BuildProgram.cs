using System.Diagnostics;
using System.Text;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>Runs the build program (Paddy.Build.dll, copied beside the tests) as a user would, capturing its output.</summary>
public sealed class BuildProgram
{
    public static readonly string SampleData = Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist");

    public static string Dotnet =>
        Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";

    public static Process Start(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Paddy.Build.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["NO_COLOR"] = "1";
        return Process.Start(start)!;
    }

    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments) =>
        Finish(Start(workingDirectory, arguments), string.Join(" ", arguments));

    /// <summary>Waits (at most 5 minutes) for a started build and returns its exit code and everything it printed.</summary>
    public static (int ExitCode, string Output) Finish(Process process, string what)
    {
        var output = new StringBuilder();
        var reading = Task.WhenAll(
            Task.Run(() => output.Append(process.StandardOutput.ReadToEnd())),
            Task.Run(() => { var errors = process.StandardError.ReadToEnd(); lock (output) output.Append(errors); }));
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The build did not finish in 5 minutes: {what}");
        }
        reading.Wait();
        var exitCode = process.ExitCode;
        process.Dispose();
        return (exitCode, output.ToString());
    }

    /// <summary>A pipeline over the sample data with tiny models, trained for one epoch each: seconds on a CPU. Every model
    /// holds out the same 800 images (data.split: shared), so the report measures the ensemble.</summary>
    public static string TinyPipeline(string name, int vitEpochs = 1, string models = "both", int convnextEpochs = 1) =>
        $$"""
        name: {{name}}
        seed: 7
        data: { root: {{SampleData}}, split: shared }
        training: { epochs: 1, freeze_epochs: 1, lr: 0.01, batch_size: 64, accum: 2, precision: fp32, tta: { n: 2, beta: 0.25 } }
        models:
        {{(models is "both" or "convnext" ? $"  - {{ arch: convnext_atto, weights: none, resize: {{ method: squish, size: 32 }}, size: 32, training: {{ epochs: {convnextEpochs} }} }}" : "")}}
        {{(models is "both" or "vit" ? $"  - {{ arch: vit_tiny_patch16_224, weights: none, resize: {{ method: squish, size: 32 }}, size: 32, ensemble_weight: 2, training: {{ epochs: {vitEpochs} }} }}" : "")}}
        """;

    public const string ConvNeXtSlug = "convnext_atto_squish-32x32_32x32";
    public const string VitSlug = "vit_tiny_patch16_224_squish-32x32_32x32";
    public const string ConvNeXtTask = "Train:convnext_atto:squish-32x32:32x32";
    public const string VitTask = "Train:vit_tiny_patch16_224:squish-32x32:32x32";
}

/// <summary>The worker child process training the given task, once it has started (polled every 50 ms).</summary>
public static class WorkerProcesses
{
    public static int WaitFor(string taskName, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var folder in System.IO.Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(folder), out var pid)) continue;
                string commandLine;
                try { commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' '); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                if (commandLine.Contains(" worker ") && commandLine.Contains($"--task={taskName} ")) return pid;
            }
            Thread.Sleep(50);
        }
        throw new TimeoutException($"No worker process for {taskName} appeared within {timeout}.");
    }
}

/// <summary>Tests that run whole trainings: one at a time, so that they do not fight over the two cores.</summary>
[CollectionDefinition(nameof(EndToEndCollection), DisableParallelization = true)]
public sealed class EndToEndCollection;
