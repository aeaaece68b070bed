namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// Finished artifacts stored by fingerprint in a folder that several machines share (a network drive, a synced
/// folder, or CI's actions/cache restoring into it): &lt;root&gt;/&lt;fingerprint&gt;/ holds a copy of the artifact.
/// A restore verifies every file against the cached manifest before the artifact counts as done. Writers stage a
/// copy beside the entry and swap it in (an atomic exchange on Linux), so two machines saving the same fingerprint
/// never leave a mixed folder and a reader never sees a half entry: identical content is kept, different content is
/// replaced whole by the last writer. Staging folders left by a writer that died are removed by the next Save.
/// </summary>
public sealed class SharedArtifactCache
{
    private const string StagingPrefix = ".incoming-";
    private const int Attempts = 3;
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromDays(1);

    public SharedArtifactCache(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    public string PathOf(string fingerprint) => Path.Combine(Root, fingerprint);

    /// <summary>The cached artifact's manifest when it exists and every file verifies; otherwise null and why.</summary>
    public (ArtifactManifest? Manifest, string Reason) Find(string fingerprint)
    {
        var manifestPath = Path.Combine(PathOf(fingerprint), ArtifactManifest.FileName);
        for (var attempt = 1; ; attempt++)
        {
            var before = ReadText(manifestPath);
            var (manifest, reason) = FindOnce(fingerprint);
            // A writer may have renamed a new copy in while these files were checked: a changed manifest means look again.
            if (manifest is not null || attempt == Attempts || ReadText(manifestPath) == before) return (manifest, reason);
        }
    }

    /// <summary>Copies the cached artifact into the store when it exists and verifies; otherwise says why not.</summary>
    public (ArtifactManifest? Restored, string Reason) TryRestore(string fingerprint, ArtifactStore store, string slug)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (manifest, whyNot) = Find(fingerprint);
            if (manifest is null) return (null, whyNot);
            var cached = PathOf(fingerprint);
            try
            {
                // Each copy is checked against the cached manifest before the store commits it: a copy replaced midway
                // (files from two writers) is never committed.
                var restored = store.Commit(slug, folder =>
                {
                    foreach (var name in manifest.Files.Keys) File.Copy(Path.Combine(cached, name), Path.Combine(folder, name));
                    if (Verify(folder, manifest) is { } problem) throw new CopyChangedException(problem);
                    return manifest;
                });
                return (restored, "restored from the shared cache");
            }
            catch (Exception e) when (e is CopyChangedException or FileNotFoundException or DirectoryNotFoundException)
            {
                if (attempt == Attempts) return (null, $"the cached copy kept changing while it was copied: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Stores a finished artifact folder under its fingerprint: staged beside the entry, then swapped in whole, so a
    /// reader sees the old copy or the new one and the old one is removed only once the new one is in place. Leftovers
    /// of writers that died midway are removed first.
    /// </summary>
    public void Save(string fingerprint, string artifactFolder)
    {
        Directory.CreateDirectory(Root);
        RemoveAbandoned();
        var manifest = ArtifactManifest.Read(Path.Combine(artifactFolder, ArtifactManifest.FileName));
        var destination = PathOf(fingerprint);
        if (File.Exists(Path.Combine(destination, ArtifactManifest.FileName))
            && SameFiles(ArtifactManifest.Read(Path.Combine(destination, ArtifactManifest.FileName)), manifest)
            && Verify(destination, manifest) is null)
            return;

        var staging = Path.Combine(Root, $"{StagingPrefix}{Guid.NewGuid():N}-{Owner}");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var name in manifest.Files.Keys.Append(ArtifactManifest.FileName))
                File.Copy(Path.Combine(artifactFolder, name), Path.Combine(staging, name));
            MoveIntoPlace(staging, destination);
        }
        finally
        {
            // After an exchange the staging folder holds the old copy; after a failure, the unused new one.
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Removes staging folders whose writer is gone: on this host, when its process no longer runs; from another
    /// host (whose processes cannot be seen from here), once a day old.
    /// </summary>
    public void RemoveAbandoned()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var folder in Directory.EnumerateDirectories(Root, StagingPrefix + "*"))
        {
            var name = Path.GetFileName(folder);
            var at = name.IndexOf('@');
            var dash = at > 0 ? name.LastIndexOf('-', at) : -1;
            var abandoned = dash >= 0 && name[(at + 1)..] == Environment.MachineName
                && int.TryParse(name[(dash + 1)..at], out var pid)
                    ? !TaskLock.IsRunning(pid)
                    : DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > AbandonedAfter;
            if (!abandoned) continue;
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
                // Another process cleaned it first.
            }
        }
    }

    /// <summary>Who is writing a staging folder: its process and host, so that leftovers can be told from live writes.</summary>
    private static string Owner => $"{Environment.ProcessId}@{Environment.MachineName}";

    private (ArtifactManifest? Manifest, string Reason) FindOnce(string fingerprint)
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
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, "not in the shared cache");
        }
        if (manifest.Fingerprint != fingerprint) return (null, "the cached copy belongs to another fingerprint");
        return Verify(cached, manifest) is { } problem ? (null, $"the cached copy was rejected: {problem}") : (manifest, "in the shared cache");
    }

    private static void MoveIntoPlace(string staging, string destination)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!Directory.Exists(destination))
                {
                    Directory.Move(staging, destination);
                    return;
                }
                if (TryExchange(staging, destination)) return;
                // No atomic exchange here: the old copy steps aside, the new one moves in, and only then is the old one removed.
                var aside = Path.Combine(Path.GetDirectoryName(staging)!, $"{StagingPrefix}replaced-{Guid.NewGuid():N}-{Owner}");
                Directory.Move(destination, aside);
                Directory.Move(staging, destination);
                Directory.Delete(aside, recursive: true);
                return;
            }
            catch (IOException) when (attempt < Attempts)
            {
                // Another writer moved its copy in (or the old one aside) at the same moment; look again.
            }
        }
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Swaps two folders in one step (Linux renameat2 with RENAME_EXCHANGE). False where the system or the file
    /// system cannot (other systems, some network file systems); an entry that vanished meanwhile is an IOException.
    /// </summary>
    private static bool TryExchange(string staging, string destination)
    {
        if (!OperatingSystem.IsLinux()) return false;
        int result;
        try
        {
            result = RenameAt2(CurrentDirectory, staging, CurrentDirectory, destination, RenameExchange);
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        if (result == 0) return true;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno == NoSuchEntry) throw new IOException($"{destination} vanished while a new copy was being swapped in.");
        return false;
    }

    private const int CurrentDirectory = -100;
    private const uint RenameExchange = 2;
    private const int NoSuchEntry = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    private sealed class CopyChangedException(string problem) : Exception(problem);

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
