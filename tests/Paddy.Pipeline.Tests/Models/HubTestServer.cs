using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>One request as the test server received it.</summary>
internal sealed record HubTestRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// What the test server answers. <paramref name="BodyBytesToSend"/> below the body's length cuts the body short: the
/// connection closes, or with <paramref name="StallAfterSending"/> stays open and silent until the server stops.
/// </summary>
internal sealed record HubTestResponse(
    int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body, int? BodyBytesToSend = null,
    bool StallAfterSending = false);

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 with a free port, one request per connection, that records every request
/// and the body bytes it sent. It stops when disposed, or by itself after a minute.
/// </summary>
internal sealed class HubTestServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(1));
    private readonly Func<HubTestRequest, HubTestResponse> _handler;
    private readonly List<HubTestRequest> _requests = [];
    private readonly Task _acceptLoop;
    private long _bodyBytesSent;
    private int _disposed;

    public HubTestServer(Func<HubTestRequest, HubTestResponse> handler)
    {
        _handler = handler;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<HubTestRequest> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

    public async ValueTask DisposeAsync()
    {
        // Tests stop the server early to prove no network is needed; the using block then disposes again.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped: by DisposeAsync or by the one-minute limit.
        }
        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var request = await ReadRequestAsync(stream);
            if (request is null)
                return;
            lock (_requests) _requests.Add(request);
            var response = _handler(request);
            var head = new StringBuilder($"HTTP/1.1 {response.Status} {(HttpStatusCode)response.Status}\r\n");
            foreach (var (name, value) in response.Headers)
                head.Append($"{name}: {value}\r\n");
            head.Append($"Content-Length: {response.Body.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), _stop.Token);
            if (request.Method != "HEAD")
            {
                var count = Math.Min(response.BodyBytesToSend ?? response.Body.Length, response.Body.Length);
                await stream.WriteAsync(response.Body.AsMemory(0, count), _stop.Token);
                Interlocked.Add(ref _bodyBytesSent, count);
                await stream.FlushAsync(_stop.Token);
                if (response.StallAfterSending)
                    await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            await stream.FlushAsync(_stop.Token);
            client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client went away (for example a cancelled download); nothing to answer.
        }
    }

    private async Task<HubTestRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!EndsWithBlankLine(received))
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0 || received.Count > 65536)
                return null;
            received.AddRange(buffer.AsSpan(0, read));
        }
        var lines = Encoding.ASCII.GetString([.. received]).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var headers = lines.Skip(1).TakeWhile(line => line.Length > 0)
            .Select(line => line.Split(':', 2))
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.OrdinalIgnoreCase);
        return new HubTestRequest(requestLine[0], requestLine[1], headers);
    }

    private static bool EndsWithBlankLine(List<byte> bytes) =>
        bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n';
}
