namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// The finished artifacts of one pipeline, one folder per Train task under models/. An artifact is written
/// into a temporary folder and renamed into place only once complete, with its manifest (holding every file's
/// hash) written last, so a crash never leaves something that counts as done. It counts as done only while its
/// fingerprint matches and every file verifies against its manifest.
/// </summary>
public sealed class ArtifactStore
{
    private const string TemporaryPrefix = ".incomplete-";
    private const string ReplacedPrefix = ".replaced-";

    public ArtifactStore(string pipelineDirectory)
    {
        PipelineDirectory = Path.GetFullPath(pipelineDirectory);
        ModelsDirectory = Path.Combine(PipelineDirectory, "models");
        WorkDirectory = Path.Combine(PipelineDirectory, "work");
    }

    public string PipelineDirectory { get; }
    public string ModelsDirectory { get; }

    /// <summary>Where unfinished tasks keep their checkpoints and logs; kept across crashes, removed on success.</summary>
    public string WorkDirectory { get; }

    public string PathOf(string slug) => Path.Combine(ModelsDirectory, slug);

    public string WorkPathOf(string slug) => Path.Combine(WorkDirectory, slug);

    /// <summary>The manifest when the artifact exists, matches the fingerprint and verifies; otherwise null and why.</summary>
    public (ArtifactManifest? Manifest, string Reason) Check(string slug, string fingerprint)
    {
        var folder = PathOf(slug);
        var manifestPath = Path.Combine(folder, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return (null, "no artifact yet");
        ArtifactManifest manifest;
        try
        {
            manifest = ArtifactManifest.Read(manifestPath);
        }
        catch (InvalidDataException e)
        {
            return (null, e.Message);
        }
        if (manifest.Fingerprint != fingerprint) return (null, "its inputs changed (fingerprint differs)");
        foreach (var (name, expected) in manifest.Files)
        {
            var file = Path.Combine(folder, name);
            if (!File.Exists(file)) return (null, $"{name} is missing from the artifact");
            if (new FileInfo(file).Length != expected.Bytes || FileHashCache.HashFile(file) != expected.Sha256)
                return (null, $"{name} does not match the hash in its manifest");
        }
        return (manifest, "up to date");
    }

    /// <summary>
    /// Writes an artifact atomically: <paramref name="write"/> fills a temporary folder and returns the manifest
    /// (without file hashes); the store hashes every file, writes the manifest last, and renames the folder into place.
    /// </summary>
    public ArtifactManifest Commit(string slug, Func<string, ArtifactManifest> write)
    {
        Directory.CreateDirectory(ModelsDirectory);
        var temporary = Path.Combine(ModelsDirectory, $"{TemporaryPrefix}{slug}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            var manifest = write(temporary);
            var files = Directory.EnumerateFiles(temporary)
                .Select(Path.GetFileName)
                .Where(name => name != ArtifactManifest.FileName)
                .Order(StringComparer.Ordinal)
                .ToDictionary(name => name!, name =>
                {
                    var path = Path.Combine(temporary, name!);
                    return new ArtifactFile(FileHashCache.HashFile(path), new FileInfo(path).Length);
                });
            manifest = manifest with { Files = files };
            manifest.Write(Path.Combine(temporary, ArtifactManifest.FileName));
            ReplaceFolder(temporary, PathOf(slug));
            return manifest;
        }
        catch
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }
    }

    /// <summary>Removes folders left by writes that never finished (a crash or a kill mid-write).</summary>
    public void RemoveIncomplete()
    {
        if (!Directory.Exists(ModelsDirectory)) return;
        foreach (var folder in Directory.EnumerateDirectories(ModelsDirectory))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith(TemporaryPrefix, StringComparison.Ordinal) || name.StartsWith(ReplacedPrefix, StringComparison.Ordinal))
                Directory.Delete(folder, recursive: true);
        }
    }

    private void ReplaceFolder(string source, string destination)
    {
        if (!Directory.Exists(destination))
        {
            Directory.Move(source, destination);
            return;
        }
        var replaced = Path.Combine(ModelsDirectory, $"{ReplacedPrefix}{Path.GetFileName(destination)}-{Guid.NewGuid():N}");
        Directory.Move(destination, replaced);
        Directory.Move(source, destination);
        Directory.Delete(replaced, recursive: true);
    }
}
