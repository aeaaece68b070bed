using System.Security.Cryptography;
using System.Text;

namespace Paddy.Pipeline.Artifacts;

/// <summary>One data file as the fingerprint sees it: path relative to the data root ('/' separated), size, content hash.</summary>
public sealed record DataFile(string Path, long Size, string Sha256);

/// <summary>Every file under the data root, sorted by path, with one hash over the whole list.</summary>
public sealed record DataManifest(IReadOnlyList<DataFile> Files, string Sha256)
{
    public static DataManifest Build(string root, FileHashCache hashes)
    {
        var paths = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(p => !System.IO.Path.GetFileName(p).StartsWith('.'))
            .Select(p => (Full: p, Relative: System.IO.Path.GetRelativePath(root, p).Replace('\\', '/')))
            .OrderBy(p => p.Relative, StringComparer.Ordinal)
            .ToList();
        var files = new DataFile[paths.Count];
        Parallel.For(0, paths.Count, i =>
            files[i] = new DataFile(paths[i].Relative, new FileInfo(paths[i].Full).Length, hashes.Sha256(paths[i].Full)));
        var listing = new StringBuilder();
        foreach (var f in files) listing.Append(f.Path).Append('\t').Append(f.Size).Append('\t').Append(f.Sha256).Append('\n');
        return new DataManifest(files, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString()))));
    }
}
