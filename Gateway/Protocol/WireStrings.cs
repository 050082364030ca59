using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Messenger.Grains;

namespace Messenger.Gateway.Protocol;

/// <summary>
/// What every string a request carries must be, on both transports: free of U+0000 (which JSON may carry as
/// <c>\u0000</c>). No field has a use for it, and PostgreSQL's text cannot store one, so a message holding it
/// would fail its conversation's whole commit in a cluster. Checked as each request object is read (a
/// modifier of the wire types' JSON contracts, so the published schemas are not touched), and refused as
/// <c>invalid_request</c> before anything reaches a grain.
/// </summary>
public static class WireStrings
{
    public const string NulRefused = "strings must not contain the character U+0000.";

    /// <summary>The wire types' contracts, checking what is read (the REST bodies' resolver).</summary>
    public static readonly IJsonTypeInfoResolver Resolver = WireJson.Context.WithAddedModifier(RefuseNul);

    /// <summary>The wire options with <see cref="Resolver"/>: for the socket's frames.</summary>
    public static readonly JsonSerializerOptions Reading = new(WireJson.Context.Options) { TypeInfoResolver = Resolver };

    /// <summary>A contract modifier: an object with string properties (or lists of strings) checks them once read.</summary>
    public static void RefuseNul(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        var strings = typeInfo.Properties
            .Where(p => p.Get is not null && (p.PropertyType == typeof(string) || typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType)))
            .ToArray();
        if (strings.Length == 0) return;
        var earlier = typeInfo.OnDeserialized;
        typeInfo.OnDeserialized = value =>
        {
            foreach (var property in strings) Check(property.Get!(value));
            earlier?.Invoke(value);
        };
    }

    private static void Check(object? value)
    {
        switch (value)
        {
            case string text:
                if (text.Contains('\0')) throw new MessengerException(ErrorCode.InvalidRequest, NulRefused);
                break;
            case IEnumerable<string> texts:
                foreach (var text in texts) Check(text);
                break;
        }
    }
}
