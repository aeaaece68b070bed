using System.Text.RegularExpressions;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// The cache layout exactly as huggingface_hub writes it, so a user's existing cache is reused and ours serves Python:
/// models--{org}--{name}/blobs/{etag}, refs/{revision} holding a commit hash, and
/// snapshots/{commit}/{file} as a relative symbolic link to ../../blobs/{etag}.
/// </summary>
internal sealed partial class HubCache(string cacheDirectory, HubFileReference file)
{
    public string RepoFolder { get; } = Path.Combine(cacheDirectory, file.CacheFolderName);

    public string RefPath => Path.Combine(RepoFolder, "refs", file.Revision);

    public string BlobPath(string etag) => Path.Combine(RepoFolder, "blobs", SafeName(etag, "ETag"));

    /// <summary>The partial download; huggingface_hub resumes from the same name, and so do we.</summary>
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";

    public string SnapshotFilePath(string commitHash) =>
        Path.Combine(RepoFolder, "snapshots", SafeName(commitHash, "commit hash"), HubFileReference.FileName);

    public string LockPath(string etag) =>
        Path.Combine(cacheDirectory, ".locks", file.CacheFolderName, SafeName(etag, "ETag") + ".lock");

    /// <summary>The commit the revision names without asking the hub: itself when a commit hash, else refs/{revision}.</summary>
    public string? FindCommitHash()
    {
        if (file.RevisionIsCommitHash)
            return file.Revision;
        return File.Exists(RefPath) && File.ReadAllText(RefPath).Trim() is { Length: > 0 } commit ? commit : null;
    }

    /// <summary>The cached file for the revision, or null; needs no network.</summary>
    public string? FindCachedFile() =>
        FindCommitHash() is { } commit && File.Exists(SnapshotFilePath(commit)) ? SnapshotFilePath(commit) : null;

    public void WriteRef(string commitHash)
    {
        if (commitHash == file.Revision)
            return;
        // Rewriting an unchanged ref would fail needlessly on a read-only shared cache.
        if (File.Exists(RefPath) && File.ReadAllText(RefPath) == commitHash)
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(RefPath)!);
        File.WriteAllText(RefPath, commitHash);
    }

    /// <summary>Points snapshots/{commit}/{file} at the blob; copies it where the file system refuses symbolic links.</summary>
    public string LinkSnapshot(string etag, string commitHash)
    {
        var pointer = SnapshotFilePath(commitHash);
        var blob = BlobPath(etag);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        File.Delete(pointer);
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, pointer, overwrite: true);
        }
        return pointer;
    }

    // Server-supplied names become file names; refuse anything that could leave the cache folder.
    private string SafeName(string value, string what) =>
        SafeNamePattern().IsMatch(value)
            ? value
            : throw new WeightsSourceException(
                $"The hub sent the {what} '{value}' for {file}, which is not a safe file name; the cache at " +
                $"{cacheDirectory} was left unchanged. Check that HF_ENDPOINT points at a Hugging Face hub.");

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]*$")]
    private static partial Regex SafeNamePattern();
}
