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

    /// <summary>A former name of the repository; its resolve URL redirects relatively to the current one.</summary>
    public const string RenamedFrom = "old_tiny_name";

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

    /// <summary>After <see cref="TruncateBodyAt"/> bytes keep the connection open and silent instead of closing it.</summary>
    public bool StallBody { get; set; }

    /// <summary>
    /// Serve the file as one kept in git: the resolve URL answers 200 itself, with the git blob SHA-1 as ETag and no
    /// X-Linked-* headers.
    /// </summary>
    public bool ServeFromGit { get; set; }

    /// <summary>The git blob id: SHA-1 of "blob {size}\0" followed by the bytes, as `git hash-object` computes it.</summary>
    public string GitBlobSha1 =>
        Convert.ToHexStringLower(SHA1.HashData([.. System.Text.Encoding.ASCII.GetBytes($"blob {Content.Length}\0"), .. Content]));

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
            if (ServeFromGit)
                return Body(request, new Dictionary<string, string>
                {
                    ["X-Repo-Commit"] = Commit,
                    ["ETag"] = $"\"{GitBlobSha1}\"",
                });
            return new HubTestResponse(302, new Dictionary<string, string>
            {
                ["Location"] = LfsBaseUrl + LfsPath,
                ["X-Repo-Commit"] = Commit,
                ["X-Linked-Etag"] = $"\"{Sha256}\"",
                ["X-Linked-Size"] = Content.Length.ToString(),
                ["ETag"] = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            }, []);
        }
        if (request.Path == $"/{Organization}/{RenamedFrom}/resolve/main/model.safetensors")
            return new HubTestResponse(307, new Dictionary<string, string>
            {
                ["Location"] = $"/{Organization}/{Repository}/resolve/main/model.safetensors",
            }, []);
        return request.Path == LfsPath
            ? Body(request, new Dictionary<string, string>())
            : new HubTestResponse(404, new Dictionary<string, string>(), []);
    }

    private HubTestResponse Body(HubTestRequest request, Dictionary<string, string> headers)
    {
        var body = (byte[])Content.Clone();
        if (CorruptBody)
            body[body.Length / 2] ^= 0xFF;
        var range = request.Header("Range");
        if (range is null || IgnoreRange)
            return new HubTestResponse(200, headers, body, TruncateBodyAt, StallBody);
        var from = int.Parse(range["bytes=".Length..].TrimEnd('-'));
        headers["Content-Range"] = $"bytes {from}-{body.Length - 1}/{body.Length}";
        return new HubTestResponse(206, headers, body[from..], TruncateBodyAt, StallBody);
    }
}
