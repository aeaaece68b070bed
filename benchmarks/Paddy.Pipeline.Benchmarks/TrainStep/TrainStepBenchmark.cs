using System.Diagnostics;
using System.Reflection;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// Images per second and peak device memory of this project's training step, one process per model (so that the
/// driver's memory figure is that model's alone, and a model that runs out of memory fails alone), printed and
/// written as JSON lines; with --compare, beside benchmarks/pytorch/train_step.py's figures, with the ratios.
/// docs/gpu.md says how the GPU run is made and what its figures were.
/// </summary>
public sealed class TrainStepBenchmark : IBenchmark
{
    public string Name => "train-step";

    public string Description =>
        "images/s and peak memory of the Learner's step per model (cuda: the seed's four at 16 x accum 64, fp16; cpu: small); --compare PYTORCH.jsonl prints ratios";

    public void Run(IReadOnlyList<string> arguments)
    {
        var options = TrainStepOptions.Parse(arguments, () => cuda.is_available());
        if (options.One is not null)
        {
            Console.WriteLine(TrainStepRecord.ResultPrefix + TrainStepMeasurement.Measure(options.Models[0], options).ToJson());
            return;
        }
        var ours = options.ResultsPath is { } earlier ? TrainStepRecord.ReadLines(earlier) : RunEach(options);
        if (options.ComparePath is { } reference)
        {
            Console.WriteLine();
            TrainStepComparison.Print(ours, TrainStepRecord.ReadLines(reference), Console.Out);
        }
        var failed = ours.Where(r => r.Error is not null).Select(r => r.Model).ToList();
        if (failed.Count > 0) throw new InvalidOperationException($"train-step: {string.Join(", ", failed)} did not finish; see above.");
    }

    private static List<TrainStepRecord> RunEach(TrainStepOptions options)
    {
        Console.WriteLine($"train-step on {options.Device}: micro-batches of {options.MicroBatch}, a step per {options.AccumulationSamples} samples, {options.Precision}, " +
                          $"{options.WarmupMicroBatches} warm-up and {options.TimedMicroBatches} timed micro-batches per model, each model in its own process");
        var records = new List<TrainStepRecord>();
        foreach (var model in options.Models)
        {
            var record = RunChild(model, options);
            Console.WriteLine(record.Summary());
            if (options.JsonPath is { } path) File.AppendAllText(path, record.ToJson() + Environment.NewLine);
            records.Add(record);
        }
        return records;
    }

    private static TrainStepRecord RunChild(TrainStepModel model, TrainStepOptions options)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Under `dotnet Paddy.Pipeline.Benchmarks.dll` the process is the dotnet host, which needs the assembly first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        start.ArgumentList.Add("train-step");
        foreach (var argument in options.ChildArguments(model)) start.ArgumentList.Add(argument);

        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(TimeSpan.FromSeconds(options.ModelSeconds)))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return Failure(model, options, $"stopped after {options.ModelSeconds:F0} s", stderr.Result);
        }
        var result = stdout.Result.Split('\n').LastOrDefault(l => l.StartsWith(TrainStepRecord.ResultPrefix, StringComparison.Ordinal));
        if (child.ExitCode != 0 || result is null)
            return Failure(model, options, $"exit code {child.ExitCode}", stdout.Result + stderr.Result);
        return TrainStepRecord.Parse(result[TrainStepRecord.ResultPrefix.Length..], $"the output of {model.Name}'s process");
    }

    private static TrainStepRecord Failure(TrainStepModel model, TrainStepOptions options, string why, string output) => new()
    {
        Side = "torchsharp",
        Model = model.Name,
        Height = model.Height,
        Width = model.Width,
        Device = options.Device,
        Error = why,
        StderrTail = output.Length > 3000 ? output[^3000..] : output,
    };
}
