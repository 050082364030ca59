using Messenger.Grains.Support;
using Messenger.Grains;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Messenger.Gateway.Protocol;

/// <summary>The one place that turns failures into HTTP statuses and RFC 9457 problem details.</summary>
public static class ErrorMapping
{
    public static int ToHttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidRequest or ErrorCode.MalformedJson or ErrorCode.UnknownFrameType or ErrorCode.OutOfRange or ErrorCode.NotGroup
            or ErrorCode.InvalidSubscription
            => StatusCodes.Status400BadRequest,
        ErrorCode.Unauthorized or ErrorCode.TokenExpired or ErrorCode.InvalidCredentials or ErrorCode.LoggedOut => StatusCodes.Status401Unauthorized,
        ErrorCode.NotMember or ErrorCode.NotContact or ErrorCode.WrongPassword or ErrorCode.NotAdmin or ErrorCode.NotOwner
            => StatusCodes.Status403Forbidden,
        ErrorCode.UserNotFound or ErrorCode.NotFound or ErrorCode.DeviceNotFound or ErrorCode.MemberNotFound or ErrorCode.SubscriptionNotFound => StatusCodes.Status404NotFound,
        ErrorCode.UserDeleted => StatusCodes.Status410Gone,
        ErrorCode.UsernameTaken or ErrorCode.PollReplaced or ErrorCode.AlreadyMember or ErrorCode.LastOwner or ErrorCode.GroupFull
            => StatusCodes.Status409Conflict,
        ErrorCode.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorCode.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The error code for a failure: ours as they are, bad requests by what went wrong, anything else internal.</summary>
    public static (ErrorCode Code, string Message) Classify(Exception exception) => exception switch
    {
        MessengerException m => (m.Code, m.Detail),
        // A grain's error that reached us wrapped (e.g. in a failed activation's exception).
        { InnerException: { } inner } when Find<MessengerException>(inner) is { } m => (m.Code, m.Detail),
        // The framework's own words never reach a client: they name its types ("Nullable<int> limit").
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (ErrorCode.TooLarge, "the request body is larger than the limit."),
        BadHttpRequestException { InnerException: System.Text.Json.JsonException } => (ErrorCode.MalformedJson, "the request body is not valid JSON."),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType }
            => (ErrorCode.InvalidRequest, "the body must be JSON, sent with Content-Type: application/json."),
        BadHttpRequestException => (ErrorCode.InvalidRequest, "the request body is missing or cannot be read."),
        System.Text.Json.JsonException => (ErrorCode.MalformedJson, "the request body is not valid JSON."),
        // The cluster could not answer in time, or the silo that was asked is gone: a retry (sends with
        // the same clientMsgId) reaches the grain again, on whichever silo it lives now.
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
            => (ErrorCode.Unavailable, "the service is unavailable for a moment; retry (a send with the same clientMsgId)."),
        _ => (ErrorCode.Internal, "an internal error occurred; the request may be retried."),
    };

    /// <summary>
    /// The HTTP status of a failure: the code's, except where the framework refused the request with a more
    /// precise 4xx of its own (415 for a body without a JSON content type), which the code does not carry.
    /// </summary>
    public static int HttpStatus(Exception exception, ErrorCode code) =>
        exception is BadHttpRequestException { StatusCode: >= 400 and < 500 and not StatusCodes.Status400BadRequest } b ? b.StatusCode : code.ToHttpStatus();

    /// <summary>When a refused request may succeed, if the refusal says (a rate limit's).</summary>
    public static TimeSpan? RetryAfter(Exception exception) => (exception as MessengerException ?? Find<MessengerException>(exception))?.RetryAfter;

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found) return found;
        }
        return null;
    }

    /// <summary>
    /// Sets the <c>code</c> extension on problem details that lack one, from their status; and the <c>type</c>
    /// of a 429, for which the framework has no default.
    /// </summary>
    public static void AddCode(ProblemDetails problem)
    {
        if (problem.Status == StatusCodes.Status429TooManyRequests) problem.Type ??= "https://tools.ietf.org/html/rfc6585#section-4";
        if (problem.Extensions.ContainsKey("code")) return;
        problem.Extensions["code"] = (problem.Status switch
        {
            StatusCodes.Status401Unauthorized => ErrorCode.Unauthorized,
            StatusCodes.Status404NotFound => ErrorCode.NotFound,
            StatusCodes.Status413PayloadTooLarge => ErrorCode.TooLarge,
            >= 400 and < 500 => ErrorCode.InvalidRequest,
            _ => ErrorCode.Internal,
        }).ToWire();
    }

    /// <summary>Counts an error answered to a client (metric <c>messenger.errors</c>, tag <c>code</c>).</summary>
    public static void Count(ErrorCode code) => MessengerMetrics.Errors.Add(1, new KeyValuePair<string, object?>("code", code.ToWire()));

    /// <summary>Writes a problem+json response with a stable code.</summary>
    public static Task WriteProblemAsync(HttpContext context, ErrorCode code, string message, int? status = null, TimeSpan? retryAfter = null)
    {
        Count(code);
        status ??= code.ToHttpStatus();
        context.Response.StatusCode = status.Value;
        // Whole seconds (RFC 9110 section 10.2.3), rounded up so that a retry at that time is not refused again.
        if (retryAfter is { } after) context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problem = new ProblemDetails { Status = status, Title = code.ToWire(), Detail = message };
        problem.Extensions["code"] = code.ToWire();
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
        }).AsTask();
    }

    /// <summary>Answers an exception that escaped a request with problem+json; an unexpected one is logged first.</summary>
    public static Task WriteExceptionAsync(HttpContext context, Exception exception, ILogger logger)
    {
        var (code, message) = Classify(exception);
        if (code == ErrorCode.Internal) logger.LogError(exception, "Unhandled error on {Path}", context.Request.Path);
        return WriteProblemAsync(context, code, message, HttpStatus(exception, code), RetryAfter(exception));
    }
}

/// <summary>Maps exceptions escaping an endpoint to problem+json (<see cref="ErrorMapping.WriteExceptionAsync"/>).</summary>
public sealed class MessengerExceptionHandler(ILogger<MessengerExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        await ErrorMapping.WriteExceptionAsync(httpContext, exception, logger);
        return true;
    }
}
