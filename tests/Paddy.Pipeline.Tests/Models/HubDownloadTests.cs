using System.Security.Cryptography;
using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Tests.Models;

public sealed class HubDownloadTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("paddy-hub-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    private string RepoFolder => Path.Combine(_cache, "models--timm--tiny_test.in1k");

    private string SnapshotFile => Path.Combine(RepoFolder, "snapshots", HubFakeHub.Commit, "model.safetensors");

    private string RefMain => Path.Combine(RepoFolder, "refs", "main");

    private string Blob(HubFakeHub hub) => Path.Combine(RepoFolder, "blobs", hub.Sha256);

    private string Partial(HubFakeHub hub) => Blob(hub) + ".incomplete";

    private static Task<string> ResolveAsync(
        HubOptions options, string id = HubFakeHub.Id, IProgress<HubDownloadProgress>? progress = null,
        CancellationToken ct = default) =>
        WeightsSource.Parse(id, "/").ResolveAsync(options, progress, ct);

    [Fact]
    public async Task FreshDownload_LandsInTheHuggingFaceLayout_FollowingTheLfsRedirect()
    {
        await using var hub = new HubFakeHub();
        var progress = new RecordingProgress();

        var path = await ResolveAsync(hub.Options(_cache), progress: progress);

        Assert.Equal(SnapshotFile, path);
        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal($"../../blobs/{hub.Sha256}", new FileInfo(path).LinkTarget);
        Assert.Equal(HubFakeHub.Commit, File.ReadAllText(RefMain));
        Assert.True(File.Exists(Blob(hub)));
        Assert.False(File.Exists(Partial(hub)));
        Assert.Equal(
            ["HEAD /timm/tiny_test.in1k/resolve/main/model.safetensors", $"GET {hub.LfsPath}"],
            hub.Server.Requests.Select(request => $"{request.Method} {request.Path}"));
        Assert.Equal(hub.Content.Length, progress.Reports[^1].BytesDone);
        Assert.All(progress.Reports, report => Assert.Equal(hub.Content.Length, report.TotalBytes));
        Assert.Equal(progress.Reports.Select(r => r.BytesDone).Order(), progress.Reports.Select(r => r.BytesDone));
    }

    [Fact]
    public async Task CachedFile_CostsOneHeadForABranch_AndNoRequestForACommitHash()
    {
        await using var hub = new HubFakeHub();
        await ResolveAsync(hub.Options(_cache));
        var before = hub.Server.Requests.Count;

        var again = await ResolveAsync(hub.Options(_cache));
        var afterBranch = hub.Server.Requests.Count;
        var pinned = await ResolveAsync(hub.Options(_cache), $"{HubFakeHub.Id}@{HubFakeHub.Commit}");

        Assert.Equal(SnapshotFile, again);
        Assert.Equal(SnapshotFile, pinned);
        Assert.Equal(["HEAD"], hub.Server.Requests.Skip(before).Select(request => request.Method));
        Assert.Equal(afterBranch, hub.Server.Requests.Count);
        Assert.Single(hub.Gets);
    }

    [Fact]
    public async Task PartialDownload_ResumesWithRange_AndFetchesOnlyTheRest()
    {
        await using var hub = new HubFakeHub();
        const int kept = 1_000_000;
        Directory.CreateDirectory(Path.GetDirectoryName(Partial(hub))!);
        File.WriteAllBytes(Partial(hub), hub.Content[..kept]);

        var path = await ResolveAsync(hub.Options(_cache));

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal($"bytes={kept}-", Assert.Single(hub.Gets).Header("Range"));
        Assert.Equal(hub.Content.Length - kept, hub.Server.BodyBytesSent);
    }

    [Fact]
    public async Task ServerThatIgnoresRange_RestartsFromTheFirstByte()
    {
        await using var hub = new HubFakeHub { IgnoreRange = true };
        Directory.CreateDirectory(Path.GetDirectoryName(Partial(hub))!);
        File.WriteAllBytes(Partial(hub), new byte[1000]);

        var path = await ResolveAsync(hub.Options(_cache));

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal(hub.Content.Length, hub.Server.BodyBytesSent);
    }

    [Fact]
    public async Task TruncatedTransfer_KeepsThePartialAndSaysSo_ThenARetryResumes()
    {
        await using var hub = new HubFakeHub { TruncateBodyAt = 1_500_000 };

        var error = await Assert.ThrowsAsync<WeightsSourceException>(() => ResolveAsync(hub.Options(_cache)));

        Assert.Contains(HubFakeHub.Id, error.Message);
        Assert.Contains($"1500000 of {hub.Content.Length} bytes", error.Message);
        Assert.Contains("resume", error.Message);
        Assert.Equal(1_500_000, new FileInfo(Partial(hub)).Length);
        Assert.False(File.Exists(SnapshotFile));

        hub.TruncateBodyAt = null;
        var path = await ResolveAsync(hub.Options(_cache));

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal("bytes=1500000-", hub.Gets.Last().Header("Range"));
    }

    [Fact]
    public async Task CorruptedBody_FailsTheSha256Check_AndLeavesNothingInTheCache()
    {
        await using var hub = new HubFakeHub { CorruptBody = true };
        var corrupted = (byte[])hub.Content.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        var corruptedSha = Convert.ToHexStringLower(SHA256.HashData(corrupted));

        var error = await Assert.ThrowsAsync<WeightsSourceException>(() => ResolveAsync(hub.Options(_cache)));

        Assert.Contains(HubFakeHub.Id, error.Message);
        Assert.Contains($"expected {hub.Sha256}", error.Message);
        Assert.Contains($"actual {corruptedSha}", error.Message);
        Assert.Contains("download again", error.Message);
        Assert.False(File.Exists(Partial(hub)));
        Assert.False(File.Exists(Blob(hub)));
        Assert.False(Directory.Exists(Path.GetDirectoryName(SnapshotFile)));
    }

    [Fact]
    public async Task Offline_WithTheFileAbsent_FailsNamingIdPathAndFixes_WithoutARequest()
    {
        await using var hub = new HubFakeHub();

        var error = await Assert.ThrowsAsync<WeightsSourceException>(
            () => ResolveAsync(hub.Options(_cache, offline: true)));

        Assert.Contains(HubFakeHub.Id, error.Message);
        Assert.Contains(RefMain, error.Message);
        Assert.Contains("unset HF_HUB_OFFLINE", error.Message);
        Assert.Contains("local path", error.Message);
        Assert.Empty(hub.Server.Requests);
    }

    [Fact]
    public async Task CachedFile_ResolvesWithTheServerStopped_OfflineAndWhenTheHubIsUnreachable()
    {
        var hub = new HubFakeHub();
        var options = hub.Options(_cache);
        await ResolveAsync(options);
        await hub.DisposeAsync();

        Assert.Equal(SnapshotFile, await ResolveAsync(hub.Options(_cache, offline: true)));
        Assert.Equal(SnapshotFile, await ResolveAsync(options));
    }

    [Fact]
    public async Task CancelledDownload_LeavesAResumablePartial_AndNoSnapshot()
    {
        await using var hub = new HubFakeHub();
        using var cancellation = new CancellationTokenSource();
        var cancelOnFirstBytes = new RecordingProgress(_ => cancellation.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ResolveAsync(hub.Options(_cache), progress: cancelOnFirstBytes, ct: cancellation.Token));

        var kept = new FileInfo(Partial(hub)).Length;
        Assert.InRange(kept, 1, hub.Content.Length - 1);
        Assert.False(File.Exists(SnapshotFile));

        var path = await ResolveAsync(hub.Options(_cache));

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal($"bytes={kept}-", hub.Gets.Last().Header("Range"));
    }

    [Fact]
    public async Task Token_GoesToTheHub_ButNotToLfsStorageOnAnotherHost()
    {
        await using var hub = new HubFakeHub();
        hub.LfsBaseUrl = $"http://localhost:{hub.Server.Port}";

        await ResolveAsync(hub.Options(_cache, token: "secret-token"));

        var head = hub.Server.Requests.Single(request => request.Method == "HEAD");
        Assert.Equal("Bearer secret-token", head.Header("Authorization"));
        Assert.Null(Assert.Single(hub.Gets).Header("Authorization"));
    }

    [Fact]
    public async Task UnknownRepository_FailsNamingTheIdAndWhatToCheck()
    {
        await using var hub = new HubFakeHub();

        var error = await Assert.ThrowsAsync<WeightsSourceException>(
            () => ResolveAsync(hub.Options(_cache), "hf:timm/no_such_model"));

        Assert.Contains("hf:timm/no_such_model", error.Message);
        Assert.Contains("404", error.Message);
        Assert.Empty(hub.Gets);
    }

    [Fact]
    public async Task RenamedRepository_FollowsTheHubsRelativeRedirect()
    {
        await using var hub = new HubFakeHub();

        var path = await ResolveAsync(hub.Options(_cache), $"hf:{HubFakeHub.Organization}/{HubFakeHub.RenamedFrom}");

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal(
            [$"/timm/{HubFakeHub.RenamedFrom}/resolve/main/model.safetensors", "/timm/tiny_test.in1k/resolve/main/model.safetensors"],
            hub.Server.Requests.Where(request => request.Method == "HEAD").Select(request => request.Path));
    }

    [Fact]
    public async Task FileKeptInGit_IsCheckedAgainstItsGitBlobSha1()
    {
        await using var hub = new HubFakeHub(size: 5000) { ServeFromGit = true };

        var path = await ResolveAsync(hub.Options(_cache));

        Assert.Equal(hub.Content, File.ReadAllBytes(path));
        Assert.Equal($"../../blobs/{hub.GitBlobSha1}", new FileInfo(path).LinkTarget);

        hub.CorruptBody = true;
        var error = await Assert.ThrowsAsync<WeightsSourceException>(
            () => ResolveAsync(hub.Options(Path.Combine(_cache, "second"))));
        Assert.Contains($"expected {hub.GitBlobSha1}", error.Message);
    }

    [Fact]
    public async Task ParallelResolves_DownloadTheBlobOnce()
    {
        await using var hub = new HubFakeHub();

        var paths = await Task.WhenAll(ResolveAsync(hub.Options(_cache)), ResolveAsync(hub.Options(_cache)));

        Assert.All(paths, path => Assert.Equal(SnapshotFile, path));
        Assert.Equal(hub.Content, File.ReadAllBytes(SnapshotFile));
        Assert.Single(hub.Gets);
    }

    [Fact]
    public async Task UnreachableHub_WithTheFileAbsent_FailsNamingIdAndCache()
    {
        var hub = new HubFakeHub();
        var options = hub.Options(_cache);
        await hub.DisposeAsync();

        var error = await Assert.ThrowsAsync<WeightsSourceException>(() => ResolveAsync(options));

        Assert.Contains(HubFakeHub.Id, error.Message);
        Assert.Contains(RepoFolder, error.Message);
        Assert.Contains("local path", error.Message);
    }

    [Fact]
    public async Task StalledTransfer_CountsAsInterrupted_AndKeepsThePartial()
    {
        await using var hub = new HubFakeHub { TruncateBodyAt = 700_000, StallBody = true };
        var options = new HubOptions
        {
            Endpoint = hub.Server.BaseUrl,
            CacheDirectory = _cache,
            StallTimeout = TimeSpan.FromMilliseconds(300),
        };

        var error = await Assert.ThrowsAsync<WeightsSourceException>(() => ResolveAsync(options));

        Assert.Contains("no data for 0.3 s", error.Message);
        Assert.Equal(700_000, new FileInfo(Partial(hub)).Length);
        Assert.False(File.Exists(SnapshotFile));
    }

    /// <summary>Records reports on the downloading thread, unlike Progress&lt;T&gt;, which posts them later.</summary>
    private sealed class RecordingProgress(Action<HubDownloadProgress>? onReport = null) : IProgress<HubDownloadProgress>
    {
        public List<HubDownloadProgress> Reports { get; } = [];

        public void Report(HubDownloadProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }
}
