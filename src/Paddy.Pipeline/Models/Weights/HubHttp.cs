using System.Net;
using System.Net.Http.Headers;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>The HTTP client for hub requests, with redirects followed by hand so the token never leaves the hub's host.</summary>
internal static class HubHttp
{
    private const int MaxRedirects = 10;

    public static HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        // Downloads of large weights take minutes; cancellation, not a client-wide timeout, bounds them.
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("paddy-pipeline", "1.0"));
        return client;
    }

    /// <summary>
    /// Sends the request, following redirects: all of them, or with <paramref name="followAbsolute"/> false only
    /// relative ones (a renamed repository), leaving an absolute one (the LFS storage) for the caller to read.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(
        HttpClient client, HttpMethod method, Uri url, string? token, bool followAbsolute,
        Action<HttpRequestMessage>? addHeaders, CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            // Identity keeps Content-Length equal to the bytes on disk.
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (token is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            addHeaders?.Invoke(request);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location || hop == MaxRedirects)
                return response;
            if (!location.IsAbsoluteUri)
                location = new Uri(url, location);
            else if (!followAbsolute)
                return response;
            response.Dispose();
            // A signed storage URL on another host must not receive the hub token.
            if (location.Authority != url.Authority)
                token = null;
            url = location;
        }
    }

    public static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and <= 399;
}
