using System.Net;
using Messenger.Testing;

namespace Messenger.Tests.Support;

/// <summary>
/// A forwarding HTTP proxy on loopback that refuses WebSocket upgrades (403), as some corporate proxies
/// do: plain requests, long-polls included, pass through to the server.
/// </summary>
public sealed class NoWebSocketProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public NoWebSocketProxy(Uri server)
    {
        _upstream = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(2) };
        var port = ServerProbe.FreePort();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _loop = AcceptAsync();
    }

    /// <summary>Where clients connect.</summary>
    public Uri Address { get; }

    /// <summary>How many WebSocket handshakes it refused.</summary>
    public int RefusedUpgrades => Volatile.Read(ref _refused);
    private int _refused;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            _ = Task.Run(() => ForwardAsync(context));
        }
    }

    private async Task ForwardAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            if (string.Equals(request.Headers["Upgrade"], "websocket", StringComparison.OrdinalIgnoreCase))
            {
                Interlocked.Increment(ref _refused);
                response.StatusCode = 403;
                return;
            }
            using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), request.Url!.PathAndQuery);
            if (request.Headers["Authorization"] is { } authorization) forward.Headers.TryAddWithoutValidation("Authorization", authorization);
            if (request.HasEntityBody)
            {
                using var body = new MemoryStream();
                await request.InputStream.CopyToAsync(body);
                forward.Content = new ByteArrayContent(body.ToArray());
                if (request.ContentType is { } contentType) forward.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            using var answer = await _upstream.SendAsync(forward, _stop.Token);
            response.StatusCode = (int)answer.StatusCode;
            if (answer.Content.Headers.ContentType is { } type) response.ContentType = type.ToString();
            var bytes = await answer.Content.ReadAsByteArrayAsync(_stop.Token);
            await response.OutputStream.WriteAsync(bytes, _stop.Token);
        }
        catch (Exception) when (!_stop.IsCancellationRequested)
        {
            response.StatusCode = 502;
        }
        catch (Exception)
        {
        }
        finally
        {
            try { response.Close(); } catch (Exception) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _loop; } catch (Exception) { }
        _listener.Close();
        _upstream.Dispose();
    }
}
