using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// Streams one blob into blobs/{etag}.incomplete, resuming a partial file with a Range request, and moves it into
/// place only once its size and hash match the hub's. An interrupted or cancelled download keeps the partial file.
/// </summary>
internal sealed class HubDownloader(
    HttpClient client, HubFileMetadata metadata, string id, string? token, TimeSpan stallTimeout,
    IProgress<HubDownloadProgress>? progress)
{
    private const int BufferSize = 1 << 20;

    public async Task DownloadAsync(HubCache cache, CancellationToken ct)
    {
        var blobPath = cache.BlobPath(metadata.Etag);
        var partialPath = cache.IncompletePath(metadata.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
        using var hash = new HubContentHash(metadata.Etag, metadata.Size);
        bool overran;
        await using (var partial = new FileStream(
            partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, useAsync: true))
        {
            if (partial.Length > metadata.Size)
                partial.SetLength(0);
            await HashExistingAsync(partial, hash, ct);
            overran = partial.Length < metadata.Size && await TransferAsync(partial, partialPath, hash, resume: true, ct);
        }
        var actual = hash.HexDigest();
        if (overran || (actual is not null && actual != metadata.Etag))
        {
            File.Delete(partialPath);
            throw new WeightsSourceException(overran
                ? $"The server sent more than the {metadata.Size} bytes the hub announced for {id} ({metadata.DownloadUrl}), " +
                  "so the file cannot be the published one. The partial file was deleted; download again."
                : $"The downloaded {HubFileReference.FileName} for {id} does not match the hub's {hash.Algorithm}: " +
                  $"expected {metadata.Etag}, actual {actual} ({metadata.DownloadUrl}). The partial file was deleted; " +
                  "download again, and if it repeats check for a proxy that alters downloads.");
        }
        File.Move(partialPath, blobPath, overwrite: true);
    }

    private static async Task HashExistingAsync(FileStream partial, HubContentHash hash, CancellationToken ct)
    {
        var buffer = new byte[BufferSize];
        partial.Position = 0;
        int read;
        while ((read = await partial.ReadAsync(buffer, ct)) > 0)
            hash.Append(buffer.AsSpan(0, read));
    }

    /// <summary>Appends the rest of the file; true when the server sent more bytes than the file has.</summary>
    private async Task<bool> TransferAsync(
        FileStream partial, string partialPath, HubContentHash hash, bool resume, CancellationToken ct)
    {
        if (!resume)
        {
            partial.SetLength(0);
            hash.Restart();
        }
        var resumeFrom = partial.Length;
        using var response = await HubHttp.SendAsync(
            client, HttpMethod.Get, metadata.DownloadUrl, token, followAbsolute: true,
            resumeFrom > 0 ? request => request.Headers.Range = new RangeHeaderValue(resumeFrom, null) : null, ct);

        var rangeRefused = response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable
            || (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != resumeFrom);
        if (resumeFrom > 0 && rangeRefused)
        {
            response.Dispose();
            return await TransferAsync(partial, partialPath, hash, resume: false, ct);
        }
        if (!response.IsSuccessStatusCode)
            throw new WeightsSourceException(
                $"Downloading {id} from {metadata.DownloadUrl} failed with {(int)response.StatusCode} {response.ReasonPhrase}. " +
                $"The partial file {partialPath} was kept; run again to resume, or set HF_TOKEN if the repository is gated.");
        // A server that ignores Range sends the whole file from its first byte.
        if (response.StatusCode != HttpStatusCode.PartialContent && resumeFrom > 0)
        {
            partial.SetLength(0);
            hash.Restart();
        }
        partial.Position = partial.Length;
        return await CopyBodyAsync(response, partial, partialPath, hash, ct);
    }

    private async Task<bool> CopyBodyAsync(
        HttpResponseMessage response, FileStream partial, string partialPath, HubContentHash hash, CancellationToken ct)
    {
        var attemptStart = partial.Length;
        var clock = Stopwatch.StartNew();
        var buffer = new byte[BufferSize];
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        string? interruption = null;
        while (true)
        {
            int read;
            stall.CancelAfter(stallTimeout);
            try
            {
                read = await body.ReadAsync(buffer, stall.Token);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                interruption = e.Message;
                break;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                interruption = $"no data for {stallTimeout.TotalSeconds:0.#} s";
                break;
            }
            if (read == 0)
                break;
            var wanted = (int)Math.Min(read, metadata.Size - partial.Length);
            await partial.WriteAsync(buffer.AsMemory(0, wanted), ct);
            hash.Append(buffer.AsSpan(0, wanted));
            if (wanted < read)
                return true;
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            progress?.Report(new HubDownloadProgress(id, partial.Length, metadata.Size, (partial.Length - attemptStart) / seconds));
        }
        if (partial.Length < metadata.Size)
        {
            await partial.FlushAsync(CancellationToken.None);
            var reason = interruption ?? "the connection closed early";
            throw new WeightsSourceException(
                $"The download of {id} stopped after {partial.Length} of {metadata.Size} bytes ({reason}). The partial " +
                $"file {partialPath} was kept; run again to resume from there.");
        }
        return false;
    }
}
