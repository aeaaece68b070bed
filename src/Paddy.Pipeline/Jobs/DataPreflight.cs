using System.Text.Json;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;

namespace Paddy.Pipeline.Jobs;

/// <summary>What the pre-flight found on data it let through: warnings, skipped training images, and whether the
/// answer was remembered from an earlier check of the same data (nothing decoded).</summary>
public sealed record DataPreflightResult(IReadOnlyList<string> Warnings, IReadOnlyList<BadImage> Skipped, bool Remembered);

/// <summary>
/// The one data check before any training: the parent build runs it once, before the first Train task, and every
/// problem comes out together in one <see cref="DatasetException"/>. The answer is remembered under the data
/// manifest's hash (and the skip setting), so a rerun on unchanged data decodes nothing, and a Train worker reads
/// the parent's answer instead of checking again.
/// </summary>
public static class DataPreflight
{
    /// <summary>Part of the remembered file's name: raise it when the checks change, so old answers are not reused.</summary>
    private const int ChecksVersion = 1;

    public static string CacheFolder(ArtifactStore store) => Path.Combine(store.PipelineDirectory, ".cache", "preflight");

    public static DataPreflightResult Run(DataSettings data, string dataSha256, string cacheFolder)
    {
        var path = Path.Combine(cacheFolder, $"{dataSha256}-v{ChecksVersion}-{(data.SkipBadImages ? "skip" : "strict")}.json");
        var result = Recall(path);
        var remembered = result is not null;
        if (result is null)
        {
            result = DataCheck.Run(data.Root, data.SkipBadImages, new ImageDecoder());
            Remember(path, result);
        }
        if (result.Problems.Count > 0) throw new DatasetException(data.Root, result.Problems);
        return new DataPreflightResult(result.Warnings, result.Skipped, remembered);
    }

    // An unreadable answer is only a lost cache entry: the data is checked again.
    private static DataCheckResult? Recall(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<DataCheckResult>(File.ReadAllText(path)); }
        catch (JsonException) { return null; }
    }

    private static void Remember(string path, DataCheckResult result)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(result));
        File.Move(temporary, path, overwrite: true);
    }
}
