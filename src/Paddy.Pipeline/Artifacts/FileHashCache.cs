using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;

namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// SHA-256 of files, remembered by (path, size, modification time) in a JSON file, so that a rerun over
/// 14,000 unchanged images reads none of them. A file whose size or time changed is hashed again.
/// </summary>
public sealed class FileHashCache
{
    private sealed record Entry(long Size, long ModifiedTicks, string Sha256);

    private readonly string cachePath;
    private readonly ConcurrentDictionary<string, Entry> entries;
    private int hashedCount;

    private FileHashCache(string cachePath, ConcurrentDictionary<string, Entry> entries)
    {
        this.cachePath = cachePath;
        this.entries = entries;
    }

    /// <summary>How many files were actually read (not answered from the cache) since loading.</summary>
    public int HashedCount => hashedCount;

    public static FileHashCache Open(string cachePath)
    {
        var entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        if (File.Exists(cachePath))
        {
            try
            {
                var saved = JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(cachePath));
                foreach (var (path, entry) in saved ?? []) entries[path] = entry;
            }
            catch (JsonException)
            {
                // A damaged cache only costs rehashing; it is rewritten on the next save.
            }
        }
        return new FileHashCache(cachePath, entries);
    }

    public string Sha256(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (!info.Exists) throw new FileNotFoundException($"{full} does not exist.", full);
        var ticks = info.LastWriteTimeUtc.Ticks;
        if (entries.TryGetValue(full, out var known) && known.Size == info.Length && known.ModifiedTicks == ticks)
            return known.Sha256;
        var hash = HashFile(full);
        Interlocked.Increment(ref hashedCount);
        entries[full] = new Entry(info.Length, ticks, hash);
        return hash;
    }

    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(cachePath)!);
        var temporary = cachePath + $".{Environment.ProcessId}.tmp";
        var ordered = entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary(e => e.Key, e => e.Value);
        File.WriteAllText(temporary, JsonSerializer.Serialize(ordered));
        File.Move(temporary, cachePath, overwrite: true);
    }

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
