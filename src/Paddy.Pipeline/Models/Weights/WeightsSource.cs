using System.Text.RegularExpressions;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// Where pretrained weights come from: a file on the Hugging Face hub, written hf:{org}/{repo}[@{revision}]
/// (the repository's model.safetensors at the revision, "main" by default), or a local path.
/// </summary>
public sealed partial class WeightsSource
{
    public const string HubPrefix = "hf:";

    private WeightsSource(string id, HubFileReference? hubFile, string? localPath)
    {
        Id = id;
        HubFile = hubFile;
        LocalPath = localPath;
    }

    /// <summary>The id as written, for messages.</summary>
    public string Id { get; }

    /// <summary>The hub file, for an hf: id; null for a local path.</summary>
    public HubFileReference? HubFile { get; }

    /// <summary>The absolute path of an existing file, for a local id; null for an hf: id.</summary>
    public string? LocalPath { get; }

    /// <summary>Reads an id; a relative local path is taken from <paramref name="baseDirectory"/>.</summary>
    public static WeightsSource Parse(string id, string baseDirectory)
    {
        if (string.IsNullOrWhiteSpace(id))
            throw new WeightsSourceException(
                $"A weights id is empty. Write hf:{{org}}/{{repo}}[@{{revision}}] (for example " +
                "hf:timm/convnext_large.fb_in22k) or the path of a .safetensors file.");
        if (id.StartsWith(HubPrefix, StringComparison.Ordinal))
            return new WeightsSource(id, ParseHub(id), null);

        var path = Path.GetFullPath(id, baseDirectory);
        if (!File.Exists(path))
        {
            var hint = HubRepoPattern().IsMatch(id) && !Directory.Exists(path)
                ? $" If it names a hub repository, write {HubPrefix}{id}."
                : "";
            throw new WeightsSourceException(
                $"The weights file '{id}' does not exist (looked at {path}). Give the path of a .safetensors file, " +
                $"absolute or relative to {baseDirectory}, or a hub id such as hf:timm/convnext_large.fb_in22k.{hint}");
        }
        return new WeightsSource(id, null, path);
    }

    /// <summary>
    /// The local file holding the weights. A hub file already cached for the revision costs no request when offline
    /// or when the revision is a commit hash, and one HEAD request otherwise; an absent one is downloaded.
    /// </summary>
    public async Task<string> ResolveAsync(
        HubOptions options, IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        if (HubFile is null)
            return LocalPath!;
        var cache = new HubCache(options.CacheDirectory, HubFile);
        // A commit hash names content that never changes, so its cached copy needs no question to the hub.
        if ((options.Offline || HubFile.RevisionIsCommitHash) && cache.FindCachedFile() is { } cached)
            return cached;
        if (options.Offline)
            throw OfflineAndAbsent(cache);

        using var client = HubHttp.CreateClient();
        HubFileMetadata metadata;
        try
        {
            metadata = await HubFileMetadata.FetchAsync(client, HubFile, options, ct);
        }
        catch (HubUnreachableException e)
        {
            // Like huggingface_hub: when the hub cannot be asked, the revision's last cached file still serves.
            return cache.FindCachedFile() ?? throw new WeightsSourceException(
                $"{e.Message} The weights {Id} are not in the cache at {cache.RepoFolder}. Check the network " +
                "connection and HF_ENDPOINT, or give a local path to the weights.", e);
        }

        cache.WriteRef(metadata.CommitHash);
        var pointer = cache.SnapshotFilePath(metadata.CommitHash);
        if (File.Exists(pointer))
            return pointer;
        using (await HubFileLock.AcquireAsync(cache.LockPath(metadata.Etag), ct))
        {
            // Another worker may have finished the blob while this one waited for the lock.
            if (!File.Exists(cache.BlobPath(metadata.Etag)))
                await new HubDownloader(
                    client, metadata, Id, metadata.DownloadToken(options), options.StallTimeout, progress).DownloadAsync(cache, ct);
            return cache.LinkSnapshot(metadata.Etag, metadata.CommitHash);
        }
    }

    public override string ToString() => Id;

    private static HubFileReference ParseHub(string id)
    {
        var match = HubIdPattern().Match(id[HubPrefix.Length..]);
        var organization = match.Groups["org"].Value;
        var repository = match.Groups["repo"].Value;
        var revision = match.Groups["revision"].Success ? match.Groups["revision"].Value : HubFileReference.DefaultRevision;
        // The hub forbids "--" and ".." in names because "--" separates them in cache folder names; revision
        // segments become folders under refs/.
        var namesUsable = !organization.Contains("--") && !repository.Contains("--") && !repository.Contains("..");
        var revisionUsable = revision.Split('/').All(segment => segment is not ("" or "." or ".."));
        if (!match.Success || !namesUsable || !revisionUsable)
            throw new WeightsSourceException(
                $"The weights id '{id}' is not a hub id. Write hf:{{org}}/{{repo}} or hf:{{org}}/{{repo}}@{{revision}}, " +
                "for example hf:timm/convnext_large.fb_in22k or hf:timm/convnext_large.fb_in22k@main, using letters, " +
                "digits, '.', '_' and '-' in the names.");
        return new HubFileReference(organization, repository, revision);
    }

    private WeightsSourceException OfflineAndAbsent(HubCache cache)
    {
        var lookedAt = cache.FindCommitHash() is { } commit
            ? cache.SnapshotFilePath(commit)
            : $"{cache.RefPath} (absent, so no cached commit is known for revision '{HubFile!.Revision}')";
        return new WeightsSourceException(
            $"The weights {Id} are not in the Hugging Face cache and HF_HUB_OFFLINE is set, so they cannot be " +
            $"downloaded. Looked at {lookedAt}. To fix: unset HF_HUB_OFFLINE to download them; or copy the cache " +
            $"folder {cache.RepoFolder} from a machine that has it; or give the local path of the .safetensors file " +
            "instead of the hf: id.");
    }

    [GeneratedRegex(@"^(?<org>[A-Za-z0-9][A-Za-z0-9._-]*)/(?<repo>[A-Za-z0-9][A-Za-z0-9._-]*)(@(?<revision>[A-Za-z0-9._-][A-Za-z0-9._/-]*))?$")]
    private static partial Regex HubIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex HubRepoPattern();
}
