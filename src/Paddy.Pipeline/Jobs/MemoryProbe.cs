using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Jobs;

/// <summary>One probe: a combination trained briefly at one accum, its peak memory, and whether that fits the budget.</summary>
public sealed record ProbeRow(string Task, int Accum, int MicroBatchSize, long? PeakBytes, bool Fits, string? Failure);

/// <summary>A probe run that ran out of memory: the answer "does not fit", not a failure of the probe.</summary>
public sealed class ProbeOutOfMemoryException(string message) : Exception(message);

/// <summary>
/// The seed's hand search for the gradient-accumulation factor that lets a model fit a 16 GB Kaggle GPU, automated:
/// accum 1, 2, 4, ... (divisors of the batch size) until a short run's peak memory fits the budget.
/// </summary>
public static class AccumSearch
{
    /// <param name="measure">
    /// Runs the probe at an accum and returns its peak bytes; throws <see cref="ProbeOutOfMemoryException"/> when the run
    /// does not fit. Any other failure is the probe's own and stops the search: it says nothing about memory.
    /// </param>
    public static IReadOnlyList<ProbeRow> Run(string task, int batchSize, long budgetBytes, Func<int, long?> measure)
    {
        var rows = new List<ProbeRow>();
        for (int accum = 1; accum <= batchSize; accum *= 2)
        {
            if (batchSize % accum != 0) break;
            long? peak = null;
            string? failure = null;
            try
            {
                peak = measure(accum);
            }
            catch (ProbeOutOfMemoryException e)
            {
                failure = e.Message.Split('\n')[0];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException(
                    $"{task}: the memory probe at accum {accum} failed for a reason other than memory, so accum: auto has no answer: {e.Message}", e);
            }
            var fits = failure is null && peak is { } p && p <= budgetBytes;
            rows.Add(new ProbeRow(task, accum, batchSize / accum, peak, fits, failure));
            if (fits) break;
        }
        return rows;
    }

    /// <summary>The accum the search settled on, or an error saying that even the smallest micro-batch does not fit.</summary>
    public static int Chosen(IReadOnlyList<ProbeRow> rows, long budgetBytes) =>
        rows.LastOrDefault(r => r.Fits)?.Accum
        ?? throw new InvalidOperationException(
            $"{rows[0].Task} does not fit {budgetBytes / (1024 * 1024)} MiB even in micro-batches of {rows[^1].MicroBatchSize}; raise memory_budget_mib, or choose a smaller size or model.");
}

/// <summary>
/// Probe results remembered in the pipeline's .cache folder, keyed by everything that changes memory use: the
/// combination without accum and TTA, the data, the code, the device and the budget.
/// </summary>
public sealed class ProbeCache(string path)
{
    public static ProbeCache For(ArtifactStore store) => new(Path.Combine(store.PipelineDirectory, ".cache", "memory-probe.json"));

    public static string Key(CombinationConfig combination, string dataSha256, string device, long budgetBytes)
    {
        var described = FingerprintInputs.Describe(combination with
        {
            Training = combination.Training with { Accum = TrainingSettings.AutoAccum, Tta = new TtaSettings(0, 0) },
        });
        var text = $"{described.ToJsonString()}|{dataSha256}|{FingerprintInputs.CurrentCodeIdentity}|{device}|{budgetBytes}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public IReadOnlyList<ProbeRow>? Find(string key) => Load().GetValueOrDefault(key);

    public void Save(string key, IReadOnlyList<ProbeRow> rows)
    {
        var all = Load();
        all[key] = rows;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(all, ArtifactManifest.Json));
        File.Move(temporary, path, overwrite: true);
    }

    private Dictionary<string, IReadOnlyList<ProbeRow>> Load()
    {
        if (!File.Exists(path)) return new();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, IReadOnlyList<ProbeRow>>>(File.ReadAllText(path), ArtifactManifest.Json)
                ?? throw new JsonException("it holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"{path} holds no readable memory-probe answers ({e.Message.Split('\n')[0]}). Delete it; the next build or --target=ProbeMemory measures again.", e);
        }
    }
}
