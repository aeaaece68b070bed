using System.Diagnostics;
using System.Globalization;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Device;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks;

/// <summary>
/// Fair use of a shared CPU: one Train-like epoch (the real loader decoding JPEGs with an empty item cache, batch
/// augmentation, a small conv net's training step) in a child process started with the Train worker's environment
/// (<see cref="WorkerEnvironment"/>: threads per allowed core, no spin-waiting), first alone, then while another
/// process keeps one core busy. Target: at least 45 % of the alone throughput with one of two cores taken.
/// Options: --images N (96), --batch B (16).
/// </summary>
public sealed class ContentionBenchmark : IBenchmark
{
    private const string EpochOnly = "--epoch-only";

    public string Name => "contention";
    public string Description => "one Train-like epoch alone vs with one core busy elsewhere (target >= 45 %)";

    public void Run(IReadOnlyList<string> arguments)
    {
        var at = arguments.ToList().IndexOf(EpochOnly);
        if (at >= 0)
        {
            MeasureEpoch(arguments[at + 1], int.Parse(BenchmarkSupport.Option(arguments, "--batch", "16"), CultureInfo.InvariantCulture));
            return;
        }
        var images = int.Parse(BenchmarkSupport.Option(arguments, "--images", "96"), CultureInfo.InvariantCulture);
        var batch = BenchmarkSupport.Option(arguments, "--batch", "16");
        var folder = Path.Combine(Path.GetTempPath(), "paddy-contention-benchmark-" + Guid.NewGuid().ToString("N"));
        try
        {
            LoaderBenchmark.WriteImages(folder, images);
            Console.WriteLine($"{images} JPEGs 480x640; the worker's environment gives {CpuBudget.Cores} thread(s) ({Environment.ProcessorCount} cores); load before: {LoadAverage()}");
            var alone = EpochInChild(folder, batch);
            Console.WriteLine($"alone:         {alone,7:F1} images/s");
            using var busy = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
            try
            {
                var contended = EpochInChild(folder, batch);
                Console.WriteLine($"one core busy: {contended,7:F1} images/s = {contended / alone:P0} of alone (target >= 45 %); load: {LoadAverage()}");
            }
            finally
            {
                busy.Kill();
                busy.WaitForExit();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double EpochInChild(string folder, string batch)
    {
        var current = Environment.ProcessPath!;
        var dll = typeof(ContentionBenchmark).Assembly.Location;
        var start = new ProcessStartInfo(current) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(current) == "dotnet") start.ArgumentList.Add(dll);
        foreach (var argument in new[] { "contention", EpochOnly, folder, "--batch", batch }) start.ArgumentList.Add(argument);
        foreach (var (name, value) in WorkerEnvironment.For("cpu", CpuBudget.Cores, Environment.GetEnvironmentVariable)) start.Environment[name] = value;
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"The epoch's child process failed ({child.ExitCode}): {output}");
        return double.Parse(output.Trim().Split('\n')[^1], CultureInfo.InvariantCulture);
    }

    /// <summary>The child: a warm-up epoch on a few images (JIT, libtorch), then one timed epoch with an empty cache.</summary>
    private static void MeasureEpoch(string folder, int batchSize)
    {
        set_num_threads(CpuBudget.Cores);
        var items = Directory.GetFiles(folder, "*.jpg").Order(StringComparer.Ordinal)
            .Select((path, i) => new LabelledImage(Path.GetFileName(path), i % 10)).ToList();
        var settings = new LoaderSettings(new ItemResize(new ImageSize(160, 160), ResizeMethod.Squish),
            new BatchAugmentation(new ImageSize(128, 128), Normalization.ImageNet), batchSize, Seed: 1, CPU);
        var (model, optimizer) = LoaderBenchmark.SmallConvNet();
        var warmUp = new ImageLoader(folder, items.Take(batchSize * 2).ToList(), LoaderKind.Train, settings, new ItemCache(), new ImageDecoder());
        foreach (var batch in warmUp.Epoch(0))
            using (batch) LoaderBenchmark.Step(model, optimizer, batch.Images, batch.Targets);
        var loader = new ImageLoader(folder, items, LoaderKind.Train, settings, new ItemCache(), new ImageDecoder());
        var clock = Stopwatch.StartNew();
        foreach (var batch in loader.Epoch(1))
            using (batch) LoaderBenchmark.Step(model, optimizer, batch.Images, batch.Targets);
        Console.WriteLine((loader.BatchesPerEpoch * batchSize / clock.Elapsed.TotalSeconds).ToString("R", CultureInfo.InvariantCulture));
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
