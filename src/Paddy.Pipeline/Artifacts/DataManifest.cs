using System.Security.Cryptography;
using System.Text;

namespace Paddy.Pipeline.Artifacts;

/// <summary>One data file as the fingerprint sees it: path relative to the data root ('/' separated), size, content hash.</summary>
public sealed record DataFile(string Path, long Size, string Sha256);

/// <summary>Every data file under the data root, sorted by path, with one hash over the whole list.</summary>
public sealed record DataManifest(IReadOnlyList<DataFile> Files, string Sha256)
{
    /// <param name="filesDone">Told how many files are hashed so far (for a progress bar).</param>
    /// <summary>How many files <see cref="Build"/> will read under <paramref name="root"/>.</summary>
    public static int CountFiles(string root, Func<string, bool> isData) => DataPaths(root, isData).Count();

    /// <param name="isData">Whether a file (its '/'-separated path relative to the root) is read as data; the others
    /// (a solution file, the pipeline's YAML, scripts beside the data) change no fingerprint.</param>
    public static DataManifest Build(string root, FileHashCache hashes, Func<string, bool> isData, IProgress<int>? filesDone = null)
    {
        var paths = DataPaths(root, isData).OrderBy(p => p.Relative, StringComparer.Ordinal).ToList();
        var files = new DataFile[paths.Count];
        var done = 0;
        Parallel.For(0, paths.Count, i =>
        {
            files[i] = new DataFile(paths[i].Relative, new FileInfo(paths[i].Full).Length, hashes.Sha256(paths[i].Full));
            filesDone?.Report(Interlocked.Increment(ref done));
        });
        var listing = Listing(files);
        return new DataManifest(files, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))));
    }

    private static IEnumerable<(string Full, string Relative)> DataPaths(string root, Func<string, bool> isData) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(p => !System.IO.Path.GetFileName(p).StartsWith('.'))
            .Select(p => (Full: p, Relative: System.IO.Path.GetRelativePath(root, p).Replace('\\', '/')))
            .Where(p => isData(p.Relative));

    /// <summary>Saves the listing under its hash in <paramref name="folder"/>, so that a later Status can say which files changed.</summary>
    public void SaveListing(string folder)
    {
        var path = ListingPath(folder, Sha256);
        if (File.Exists(path)) return;
        Directory.CreateDirectory(folder);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, Listing(Files));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A listing saved by <see cref="SaveListing"/>, or null when none was kept for that hash.</summary>
    public static IReadOnlyList<DataFile>? LoadListing(string folder, string sha256)
    {
        var path = ListingPath(folder, sha256);
        if (!File.Exists(path)) return null;
        return File.ReadLines(path).Select(line => line.Split('\t'))
            .Select(parts => new DataFile(parts[0], long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]))
            .ToList();
    }

    private static string ListingPath(string folder, string sha256) => System.IO.Path.Combine(folder, $"{sha256}.tsv");

    private static string Listing(IEnumerable<DataFile> files)
    {
        var listing = new StringBuilder();
        foreach (var f in files) listing.Append(f.Path).Append('\t').Append(f.Size).Append('\t').Append(f.Sha256).Append('\n');
        return listing.ToString();
    }
}
