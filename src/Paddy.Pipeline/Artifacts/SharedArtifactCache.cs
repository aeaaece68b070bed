namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// Finished artifacts stored by fingerprint in a folder that several machines share (a network drive, a synced
/// folder, or CI's actions/cache restoring into it): &lt;root&gt;/&lt;fingerprint&gt;/ holds a copy of the artifact.
/// A restore verifies every file against the cached manifest before the artifact counts as done. Writers stage a
/// copy and rename it into place, so two machines saving the same fingerprint never leave a mixed folder:
/// identical content is kept, different content is replaced whole by the last writer.
/// </summary>
public sealed class SharedArtifactCache
{
    private const string StagingPrefix = ".incoming-";

    public SharedArtifactCache(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    public string PathOf(string fingerprint) => Path.Combine(Root, fingerprint);

    /// <summary>The cached artifact's manifest when it exists and every file verifies; otherwise null and why.</summary>
    public (ArtifactManifest? Manifest, string Reason) Find(string fingerprint)
    {
        var cached = PathOf(fingerprint);
        var manifestPath = Path.Combine(cached, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return (null, "not in the shared cache");
        ArtifactManifest manifest;
        try
        {
            manifest = ArtifactManifest.Read(manifestPath);
        }
        catch (InvalidDataException e)
        {
            return (null, $"the cached copy is unreadable: {e.Message}");
        }
        if (manifest.Fingerprint != fingerprint) return (null, "the cached copy belongs to another fingerprint");
        return Verify(cached, manifest) is { } problem ? (null, $"the cached copy was rejected: {problem}") : (manifest, "in the shared cache");
    }

    /// <summary>Copies the cached artifact into the store when it exists and verifies; otherwise says why not.</summary>
    public (ArtifactManifest? Restored, string Reason) TryRestore(string fingerprint, ArtifactStore store, string slug)
    {
        var (manifest, whyNot) = Find(fingerprint);
        if (manifest is null) return (null, whyNot);
        var cached = PathOf(fingerprint);
        var restored = store.Commit(slug, folder =>
        {
            foreach (var name in manifest.Files.Keys) File.Copy(Path.Combine(cached, name), Path.Combine(folder, name));
            return manifest;
        });
        // The copy could have changed between verification and copying; the store's own check is the last word.
        var (checkedManifest, reason) = store.Check(slug, fingerprint);
        return checkedManifest is null || !SameFiles(checkedManifest, manifest)
            ? (null, $"the restored copy does not verify: {reason}")
            : (restored, "restored from the shared cache");
    }

    /// <summary>Stores a finished artifact folder under its fingerprint.</summary>
    public void Save(string fingerprint, string artifactFolder)
    {
        Directory.CreateDirectory(Root);
        var manifest = ArtifactManifest.Read(Path.Combine(artifactFolder, ArtifactManifest.FileName));
        var destination = PathOf(fingerprint);
        if (File.Exists(Path.Combine(destination, ArtifactManifest.FileName))
            && SameFiles(ArtifactManifest.Read(Path.Combine(destination, ArtifactManifest.FileName)), manifest)
            && Verify(destination, manifest) is null)
            return;

        var staging = Path.Combine(Root, $"{StagingPrefix}{fingerprint}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var name in manifest.Files.Keys.Append(ArtifactManifest.FileName))
                File.Copy(Path.Combine(artifactFolder, name), Path.Combine(staging, name));
            if (Directory.Exists(destination))
            {
                var replaced = Path.Combine(Root, $"{StagingPrefix}replaced-{Guid.NewGuid():N}");
                Directory.Move(destination, replaced);
                Directory.Delete(replaced, recursive: true);
            }
            Directory.Move(staging, destination);
        }
        catch (IOException) when (Directory.Exists(Path.Combine(destination)) && File.Exists(Path.Combine(destination, ArtifactManifest.FileName)))
        {
            // Another machine renamed its copy into place first; theirs has the same fingerprint.
            Directory.Delete(staging, recursive: true);
        }
    }

    private static string? Verify(string folder, ArtifactManifest manifest)
    {
        foreach (var (name, expected) in manifest.Files)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) return $"{name} is missing";
            if (new FileInfo(path).Length != expected.Bytes || FileHashCache.HashFile(path) != expected.Sha256)
                return $"{name} does not match its hash";
        }
        return null;
    }

    private static bool SameFiles(ArtifactManifest a, ArtifactManifest b) =>
        a.Files.Count == b.Files.Count && a.Files.All(f => b.Files.TryGetValue(f.Key, out var other) && other == f.Value);
}
