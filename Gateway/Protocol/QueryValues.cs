using System.Globalization;
using Messenger.Grains;

namespace Messenger.Gateway.Protocol;

// Query parameters are read by the gateway, not by ASP.NET Core's binder: the binder refuses a value it
// cannot parse before any endpoint code runs, in its own words ("Failed to bind parameter …"), and with
// invalid_request even for a number that is merely too large. These types take any text (their TryParse
// never fails); the endpoint turns it into a number with the protocol's errors. The OpenAPI document still
// describes them as numbers (OpenApiDescription).

/// <summary>A whole-number query parameter (64-bit).</summary>
public readonly record struct QueryInteger(string Text)
{
    public static bool TryParse(string? text, IFormatProvider? provider, out QueryInteger value)
    {
        value = new QueryInteger(text ?? "");
        return true;
    }

    /// <summary>
    /// The value; <c>invalid_request</c> for text that is not a whole number, <c>out_of_range</c> for one
    /// beyond 64 bits (it is a number, only too large for any range the protocol has).
    /// </summary>
    public long Value(string name)
    {
        if (long.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        if (System.Numerics.BigInteger.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"'{name}' is outside the 64-bit range.");
        }
        throw new MessengerException(ErrorCode.InvalidRequest, $"'{name}' must be a whole number.");
    }
}

/// <summary>A query parameter that is a number of seconds, fractions allowed.</summary>
public readonly record struct QuerySeconds(string Text)
{
    public static bool TryParse(string? text, IFormatProvider? provider, out QuerySeconds value)
    {
        value = new QuerySeconds(text ?? "");
        return true;
    }

    /// <summary>The value (callers check its range); <c>invalid_request</c> for text that is not a number.</summary>
    public double Value(string name) =>
        double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new MessengerException(ErrorCode.InvalidRequest, $"'{name}' must be a number of seconds.");
}

/// <summary>Reading optional query values.</summary>
public static class QueryValues
{
    // An empty value (?after=) counts as not given, as the framework's binder had it.

    /// <summary>The value, or null when the parameter was not given (or given empty).</summary>
    public static long? Read(this QueryInteger? query, string name) => query is { Text.Length: > 0 } q ? q.Value(name) : null;

    /// <summary>The value, or null when the parameter was not given (or given empty).</summary>
    public static double? Read(this QuerySeconds? query, string name) => query is { Text.Length: > 0 } q ? q.Value(name) : null;

    /// <summary>
    /// A page size as the grains take it: beyond 32 bits it is clamped, which the grains' own range check
    /// then refuses with the usual <c>out_of_range</c> message ("limit must be 1 to 500").
    /// </summary>
    public static int PageSize(long? limit, int fallback) => limit is null ? fallback : (int)Math.Clamp(limit.Value, int.MinValue, int.MaxValue);
}
