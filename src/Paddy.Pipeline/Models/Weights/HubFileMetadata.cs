using System.Net;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>What the hub says about a file at a revision, from one HEAD request on its resolve URL.</summary>
/// <param name="Etag">The blob name: the SHA-256 for LFS files, the git blob SHA-1 otherwise.</param>
/// <param name="Size">The file's size in bytes (the LFS object's, not the pointer's).</param>
/// <param name="DownloadUrl">Where the bytes are: the resolve URL itself, or the LFS storage it redirects to.</param>
internal sealed record HubFileMetadata(string CommitHash, string Etag, long Size, Uri DownloadUrl)
{
    /// <summary>The token for the download: only the hub's own host gets it, never a signed storage URL elsewhere.</summary>
    public string? DownloadToken(HubOptions options) =>
        DownloadUrl.Authority == new Uri(options.Endpoint).Authority ? options.Token : null;

    public static async Task<HubFileMetadata> FetchAsync(
        HttpClient client, HubFileReference file, HubOptions options, CancellationToken ct)
    {
        var url = file.ResolveUrl(options.Endpoint);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.MetadataTimeout);
        HttpResponseMessage response;
        try
        {
            response = await HubHttp.SendAsync(client, HttpMethod.Head, url, options.Token, followAbsolute: false, null, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new HubUnreachableException($"Could not reach {url} ({e.Message}).", e);
        }
        using (response)
        {
            ThrowOnError(response, file, url);
            var commit = Header(response, "X-Repo-Commit");
            var etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag");
            var size = Header(response, "X-Linked-Size") ?? response.Content.Headers.ContentLength?.ToString();
            if (commit is null || etag is null || !long.TryParse(size, out var bytes))
                throw new HubUnreachableException(
                    $"{url} answered without the X-Repo-Commit, ETag and size headers a Hugging Face hub sends; " +
                    "a proxy or firewall may stand in between, or HF_ENDPOINT points elsewhere.");
            var downloadUrl = HubHttp.IsRedirect(response.StatusCode) && response.Headers.Location is { } location
                ? location
                : response.RequestMessage?.RequestUri ?? url;
            return new HubFileMetadata(commit, NormalizeEtag(etag), bytes, downloadUrl);
        }
    }

    // huggingface_hub accepts both W/"x" and "x" and names the blob x.
    internal static string NormalizeEtag(string etag)
    {
        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
            value = value[2..];
        return value.Trim('"');
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;

    private static void ThrowOnError(HttpResponseMessage response, HubFileReference file, Uri url)
    {
        if (response.IsSuccessStatusCode || HubHttp.IsRedirect(response.StatusCode))
            return;
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new WeightsSourceException(
                $"The hub refused {file} ({status} from {url}): the repository is gated or private. Accept its terms " +
                "on the hub and set HF_TOKEN to an access token, or give a local path to the weights instead."),
            HttpStatusCode.NotFound => new WeightsSourceException(
                $"The hub has no {HubFileReference.FileName} for {file} ({status} from {url}). Check the organisation, " +
                "repository and revision in the id (for example hf:timm/convnext_large.fb_in22k@main)."),
            _ => new HubUnreachableException($"{url} answered {status}."),
        };
    }
}
