using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Messenger.Tests.Support.Push;

/// <summary>A request a receiver refuses: the status it answers and the reason it records.</summary>
internal sealed class Rejection(HttpStatusCode status, string reason) : Exception(reason)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>Kestrel on 127.0.0.1 with a port the OS picks, and the helpers both receivers answer with.</summary>
internal static class LoopbackHttp
{
    /// <summary>
    /// Starts serving every request with <paramref name="handle"/>, which answers a valid request itself and throws
    /// <see cref="Rejection"/> for an invalid one; refusals are answered here and recorded in <paramref name="refusals"/>.
    /// Returns the app and its origin (<c>http://127.0.0.1:port</c>).
    /// </summary>
    public static async Task<(WebApplication App, string Origin)> StartAsync(RequestDelegate handle, RefusalLog refusals)
    {
        // The empty builder reads no environment or appsettings, so a stray ASPNETCORE_URLS cannot move it.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(context => HandleAsync(context, handle, refusals));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var bound = new Uri(address);
        return (app, $"http://127.0.0.1:{bound.Port.ToString(CultureInfo.InvariantCulture)}");
    }

    private static async Task HandleAsync(HttpContext context, RequestDelegate handle, RefusalLog refusals)
    {
        try
        {
            await handle(context);
        }
        catch (Rejection rejection)
        {
            await RefuseAsync(context, refusals, rejection.Status, rejection.Message);
        }
        catch (BadHttpRequestException e)
        {
            await RefuseAsync(context, refusals, HttpStatusCode.BadRequest, $"unreadable request ({e.Message})");
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested)
        {
            refusals.Record(context.Request, $"the sender abandoned the request ({e.GetType().Name})");
        }
        catch (Exception e)
        {
            // A receiver bug must not pass for a sender's success: it fails the request and the no-errors assertion.
            await RefuseAsync(context, refusals, HttpStatusCode.InternalServerError, $"receiver fault: {e}");
        }
    }

    private static Task RefuseAsync(HttpContext context, RefusalLog refusals, HttpStatusCode status, string reason)
    {
        // Recorded before answering, so a sender that has its answer finds the reason already listed.
        refusals.Record(context.Request, reason);
        return AnswerAsync(context.Response, status, null, reason);
    }

    /// <summary>Reads the whole body, refusing one longer than <paramref name="limit"/> bytes with 413.</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit) throw TooLarge(request.ContentLength.Value, limit);
        using var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > limit) throw TooLarge(body.Length, limit);
        }
        return body.ToArray();
    }

    private static Rejection TooLarge(long length, int limit) =>
        new(HttpStatusCode.RequestEntityTooLarge, $"body of {length} bytes is over the limit of {limit}");

    /// <summary>Answers with <paramref name="status"/>, a Retry-After in whole seconds if given, and a short text body.</summary>
    public static Task AnswerAsync(HttpResponse response, HttpStatusCode status, TimeSpan? retryAfter, string text)
    {
        response.StatusCode = (int)status;
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = Math.Ceiling(delay.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
