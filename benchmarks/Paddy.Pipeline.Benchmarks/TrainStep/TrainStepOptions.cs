using System.Globalization;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// The benchmark's settings. On CUDA the defaults are the seed's: micro-batches of 16, accumulation to 64 samples,
/// fp16, 8 warm-up and 40 timed micro-batches; on the CPU, small models and a few batches, to prove it runs.
/// </summary>
public sealed record TrainStepOptions
{
    public required string Device { get; init; }
    public required IReadOnlyList<TrainStepModel> Models { get; init; }
    public int MicroBatch { get; init; }
    public int AccumulationSamples { get; init; }
    public int WarmupMicroBatches { get; init; }
    public int TimedMicroBatches { get; init; }

    /// <summary>fp16, bf16 or fp32; fp16 on the CPU runs in bfloat16, as a Train task does.</summary>
    public required string Precision { get; init; }

    /// <summary>Each model's process is stopped after this many seconds.</summary>
    public double ModelSeconds { get; init; }

    /// <summary>Where to append one JSON line per model.</summary>
    public string? JsonPath { get; init; }

    /// <summary>The PyTorch side's JSON lines, to print the ratios.</summary>
    public string? ComparePath { get; init; }

    /// <summary>This side's JSON lines from an earlier run: compare without running.</summary>
    public string? ResultsPath { get; init; }

    /// <summary>Set in the child process that measures one model.</summary>
    public string? One { get; init; }

    public const string Usage =
        "train-step [--device cuda|cpu] [--models seed|tiny|NAME,...] [--micro-batch 16] [--accumulate 64] [--warmup 8] [--timed 40] " +
        "[--precision fp16|bf16|fp32] [--model-seconds 300] [--json FILE] [--compare PYTORCH.jsonl] [--results FILE]";

    public static TrainStepOptions Parse(IReadOnlyList<string> arguments, Func<bool> cudaAvailable)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < arguments.Count; i++)
        {
            if (!arguments[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= arguments.Count)
                throw new ArgumentException($"train-step: '{arguments[i]}' is not an option with a value. Usage: {Usage}");
            values[arguments[i][2..]] = arguments[++i];
        }
        string? Text(string name) => values.Remove(name, out var value) ? value : null;
        int Number(string name, int fallback, int minimum)
        {
            var text = Text(name);
            if (text is null) return fallback;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
                throw new ArgumentException($"train-step: --{name} takes a whole number of at least {minimum}, not '{text}'.");
            return value;
        }

        var device = Text("device") ?? (cudaAvailable() ? "cuda" : "cpu");
        var one = Text("one");
        var choice = one ?? Text("models") ?? (device.StartsWith("cuda", StringComparison.Ordinal) ? "seed" : "tiny");
        var models = TrainStepModels.Select(choice);
        var tiny = models.All(m => TrainStepModels.Tiny.Contains(m));
        var options = new TrainStepOptions
        {
            Device = device,
            Models = models,
            One = one,
            MicroBatch = Number("micro-batch", tiny ? 4 : 16, 1),
            AccumulationSamples = Number("accumulate", tiny ? 8 : 64, 1),
            WarmupMicroBatches = Number("warmup", tiny ? 2 : 8, 1),
            TimedMicroBatches = Number("timed", tiny ? 4 : 40, 1),
            Precision = Text("precision") ?? (device.StartsWith("cuda", StringComparison.Ordinal) ? "fp16" : "bf16"),
            ModelSeconds = Number("model-seconds", 300, 1),
            JsonPath = Text("json"),
            ComparePath = Text("compare"),
            ResultsPath = Text("results"),
        };
        if (values.Count > 0)
            throw new ArgumentException($"train-step: unknown option(s) {string.Join(", ", values.Keys.Select(k => "--" + k))}. Usage: {Usage}");
        if (options.Precision is not ("fp16" or "bf16" or "fp32"))
            throw new ArgumentException($"train-step: --precision is fp16, bf16 or fp32, not '{options.Precision}'.");
        return options;
    }

    /// <summary>The arguments that make a child process measure <paramref name="model"/> with these settings.</summary>
    public IEnumerable<string> ChildArguments(TrainStepModel model) =>
    [
        "--one", model.Name, "--device", Device, "--micro-batch", Invariant(MicroBatch), "--accumulate", Invariant(AccumulationSamples),
        "--warmup", Invariant(WarmupMicroBatches), "--timed", Invariant(TimedMicroBatches), "--precision", Precision,
    ];

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
