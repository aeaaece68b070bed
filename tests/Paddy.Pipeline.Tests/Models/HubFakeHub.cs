using System.Security.Cryptography;
using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>
/// A fake Hugging Face hub for one repository with one model.safetensors: resolve URLs answer 302 to an LFS-style
/// URL with X-Repo-Commit, X-Linked-Etag and X-Linked-Size, as huggingface.co does, and the LFS URL serves the bytes,
/// honouring Range unless told not to.
/// </summary>
internal sealed class HubFakeHub : IAsyncDisposable
{
    public const string Organization = "timm";
    public const string Repository = "tiny_test.in1k";
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    public const string Id = $"hf:{Organization}/{Repository}";

    public HubFakeHub(int size = 3 << 20)
    {
        Content = new byte[size];
        new Random(1234).NextBytes(Content);
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Content));
        Server = new HubTestServer(Answer);
        LfsBaseUrl = Server.BaseUrl;
    }

    public byte[] Content { get; }

    /// <summary>The LFS hash, computed here independently of the code under test.</summary>
    public string Sha256 { get; }

    public HubTestServer Server { get; }

    /// <summary>Where resolve URLs redirect to; another host name for the same server tests token stripping.</summary>
    public string LfsBaseUrl { get; set; }

    public string LfsPath => $"/lfs/{Sha256}";

    /// <summary>Bytes of the LFS body sent before the connection is closed; null sends everything.</summary>
    public int? TruncateBodyAt { get; set; }

    /// <summary>Flip one byte of the served body, as a broken proxy would.</summary>
    public bool CorruptBody { get; set; }

    public bool IgnoreRange { get; set; }

    public IEnumerable<HubTestRequest> Gets => Server.Requests.Where(request => request.Method == "GET");

    public HubOptions Options(string cacheDirectory, bool offline = false, string? token = null) => new()
    {
        Endpoint = Server.BaseUrl,
        CacheDirectory = cacheDirectory,
        Offline = offline,
        Token = token,
    };

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private HubTestResponse Answer(HubTestRequest request)
    {
        if (request.Path is $"/{Organization}/{Repository}/resolve/main/model.safetensors"
            or $"/{Organization}/{Repository}/resolve/{Commit}/model.safetensors")
        {
            return new HubTestResponse(302, new Dictionary<string, string>
            {
                ["Location"] = LfsBaseUrl + LfsPath,
                ["X-Repo-Commit"] = Commit,
                ["X-Linked-Etag"] = $"\"{Sha256}\"",
                ["X-Linked-Size"] = Content.Length.ToString(),
                ["ETag"] = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            }, []);
        }
        if (request.Path != LfsPath)
            return new HubTestResponse(404, new Dictionary<string, string>(), []);

        var body = (byte[])Content.Clone();
        if (CorruptBody)
            body[body.Length / 2] ^= 0xFF;
        var range = request.Header("Range");
        if (range is null || IgnoreRange)
            return new HubTestResponse(200, new Dictionary<string, string>(), body, TruncateBodyAt);
        var from = int.Parse(range["bytes=".Length..].TrimEnd('-'));
        return new HubTestResponse(206, new Dictionary<string, string>
        {
            ["Content-Range"] = $"bytes {from}-{body.Length - 1}/{body.Length}",
        }, body[from..], TruncateBodyAt);
    }
}
