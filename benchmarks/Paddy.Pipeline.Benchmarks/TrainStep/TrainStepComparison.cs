using System.Globalization;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// This project's figures beside the PyTorch + timm reference's, model by model. Speed ratio = our images/s over
/// theirs (the goal: at least 1.0); memory ratio = our NVML process peak over theirs (the goal: at most 1.0), like for
/// like, since TorchSharp can only report the process's device memory; PyTorch's own reserved peak is shown beside.
/// </summary>
public static class TrainStepComparison
{
    public static void Print(IReadOnlyList<TrainStepRecord> ours, IReadOnlyList<TrainStepRecord> reference, TextWriter output)
    {
        output.WriteLine(
            $"{"model",-32} {"size",-8} {"ours img/s",11} {"torch img/s",12} {"speed",6} {"ours MiB",9} {"torch MiB",10} {"reserved",9} {"memory",7}");
        foreach (var mine in ours)
        {
            var theirs = reference.LastOrDefault(r => r.Model == mine.Model);
            output.WriteLine(Row(mine, theirs));
        }
        output.WriteLine("speed = ours / torch images per second (goal >= 1.0); memory = ours / torch NVML process peak (goal <= 1.0); reserved = torch.cuda.max_memory_reserved.");
    }

    private static string Row(TrainStepRecord mine, TrainStepRecord? theirs)
    {
        string Rate(TrainStepRecord? r) => r is null ? "missing" : r.Error is not null ? "failed" : F(r.ImagesPerSecond, "F1");
        string Mib(long? bytes) => bytes is { } b ? F(b / (1024.0 * 1024), "F0") : "n/a";
        var bothRan = mine.Error is null && theirs is { Error: null };
        var speed = bothRan && theirs!.ImagesPerSecond > 0 ? F(mine.ImagesPerSecond / theirs.ImagesPerSecond, "F2") : "-";
        var memory = bothRan && mine.PeakProcessMemoryBytes is { } m && theirs!.PeakProcessMemoryBytes is { } t and > 0
            ? F(m / (double)t, "F2")
            : "-";
        return $"{mine.Model,-32} {$"{mine.Height}x{mine.Width}",-8} {Rate(mine),11} {Rate(theirs),12} {speed,6} " +
               $"{Mib(mine.Error is null ? mine.PeakProcessMemoryBytes : null),9} {Mib(theirs?.PeakProcessMemoryBytes),10} {Mib(theirs?.PeakReservedBytes),9} {memory,7}";
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
