using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// One model's figures, as one JSON line; benchmarks/pytorch/train_step.py writes the same fields (snake_case), so
/// either side's lines can be read here. Peak process memory is NVML's figure on CUDA on both sides (VmHWM on the
/// CPU); the PyTorch side adds torch.cuda.max_memory_reserved/allocated, which TorchSharp 0.107 cannot report.
/// </summary>
public sealed record TrainStepRecord
{
    public required string Side { get; init; }
    public required string Model { get; init; }
    public int Height { get; init; }
    public int Width { get; init; }
    public int MicroBatch { get; init; }
    public int AccumulationSamples { get; init; }
    public string? Precision { get; init; }
    public string? Device { get; init; }
    public string? DeviceName { get; init; }
    public int WarmupMicroBatches { get; init; }
    public int TimedMicroBatches { get; init; }
    public int OptimizerStepsTimed { get; init; }
    public double Seconds { get; init; }
    public double ImagesPerSecond { get; init; }
    public long? PeakProcessMemoryBytes { get; init; }
    public string? PeakMemorySource { get; init; }
    public long? PeakReservedBytes { get; init; }
    public long? PeakAllocatedBytes { get; init; }
    public double? LossScale { get; init; }
    public long Parameters { get; init; }
    public string? Framework { get; init; }
    public string? Error { get; init; }
    public string? StderrTail { get; init; }

    public const string ResultPrefix = "RESULT ";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Every record in a JSON-lines file; a line that is not one is an error naming the file and line.</summary>
    public static IReadOnlyList<TrainStepRecord> ReadLines(string path) =>
        File.ReadLines(path)
            .Select((line, index) => (line, index))
            .Where(l => !string.IsNullOrWhiteSpace(l.line))
            .Select(l => Parse(l.line, $"{path}({l.index + 1})"))
            .ToList();

    /// <summary>One record from its JSON; <paramref name="origin"/> says where it came from, for the error.</summary>
    public static TrainStepRecord Parse(string json, string origin)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainStepRecord>(json, Json) ?? throw new JsonException("the line is the JSON literal null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"{origin}: not a train-step record ({e.Message}). Each line must be one JSON object as train-step --json or benchmarks/pytorch/train_step.py --json writes it.", e);
        }
    }

    public string Summary() => Error is not null
        ? $"{Model}: FAILED ({Error}){(StderrTail is null ? "" : Environment.NewLine + StderrTail)}"
        : string.Create(CultureInfo.InvariantCulture,
            $"{Model} at {Height}x{Width}: {ImagesPerSecond:F1} images/s over {TimedMicroBatches} micro-batches of {MicroBatch} ({OptimizerStepsTimed} optimizer steps), peak {Mebibytes(PeakProcessMemoryBytes)} ({PeakMemorySource})");

    public static string Mebibytes(long? bytes) =>
        bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / (1024.0 * 1024):F0} MiB") : "n/a";
}
