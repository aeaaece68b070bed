namespace Paddy.Pipeline.Data;

/// <summary>A file's identity for caching a scan: the scan's result depends on nothing else.</summary>
public sealed record ImageFileStamp(string RelativePath, long Size, DateTime LastWriteUtc);

/// <summary>An image that cannot be used, and why.</summary>
public sealed record BadImage(string RelativePath, string Reason);

/// <summary>
/// Checks every train and test image before any training starts, so that a bad file fails the run in seconds
/// rather than hours in: zero-byte files, non-images, truncated or corrupt data, images over the pixel limit
/// (checked from the header, before decoding). Runs on all cores.
/// </summary>
public static class BadImageScan
{
    /// <summary>The stamps of the given files, the pure input of <see cref="Scan"/> (and the caller's cache key).</summary>
    public static IReadOnlyList<ImageFileStamp> Stamp(string root, IEnumerable<string> relativePaths) =>
        relativePaths.Select(p =>
        {
            var info = new FileInfo(Path.Combine(root, p));
            return info.Exists
                ? new ImageFileStamp(p, info.Length, info.LastWriteTimeUtc)
                : new ImageFileStamp(p, -1, DateTime.MinValue);
        }).ToList();

    /// <summary>All bad images among <paramref name="files"/>, in the order given.</summary>
    public static IReadOnlyList<BadImage> Scan(string root, IReadOnlyList<ImageFileStamp> files, ImageDecoder decoder)
    {
        var reasons = new string?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var file = files[i];
            reasons[i] = file.Size < 0 ? "missing" : decoder.FindProblem(Path.Combine(root, file.RelativePath));
        });
        return files.Select((f, i) => (f, reason: reasons[i]))
            .Where(p => p.reason is not null)
            .Select(p => new BadImage(p.f.RelativePath, p.reason!))
            .ToList();
    }
}
