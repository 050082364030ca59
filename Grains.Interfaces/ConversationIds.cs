namespace Messenger.Grains;

/// <summary>
/// Conversation ids: direct ones are derived from the two user ids, so opening one needs no lookup; group ones
/// are <c>g:</c> followed by 32 lower-case hex digits of a time-ordered UUID, made when the group is created.
/// </summary>
public static class ConversationIds
{
    /// <summary>A new group id.</summary>
    public static string NewGroup() => "g:" + Guid.CreateVersion7().ToString("N");

    /// <summary>True when <paramref name="conversationId"/> has the shape of a group id.</summary>
    public static bool IsGroup(string conversationId) => conversationId.Length == 34 && conversationId.StartsWith("g:", StringComparison.Ordinal)
        && UserIds.IsHex32(conversationId.AsSpan(2));

    /// <summary>True when <paramref name="conversationId"/> could name a conversation (a direct or a group id).</summary>
    public static bool IsValid(string conversationId) => IsGroup(conversationId) || SplitDirect(conversationId, out _, out _);

    /// <summary>The direct conversation id of two users, <c>d:{min}:{max}</c> in ordinal order.</summary>
    public static string Direct(string userA, string userB) =>
        string.CompareOrdinal(userA, userB) <= 0 ? $"d:{userA}:{userB}" : $"d:{userB}:{userA}";

    /// <summary>Parses a direct conversation id into its two distinct user ids.</summary>
    public static bool TryParseDirect(string conversationId, out string first, out string second)
    {
        first = second = "";
        if (!SplitDirect(conversationId, out var a, out var b)) return false;
        (first, second) = (a.ToString(), b.ToString());
        return true;
    }

    // The two user ids of a direct conversation id, without copying them.
    private static bool SplitDirect(string conversationId, out ReadOnlySpan<char> first, out ReadOnlySpan<char> second)
    {
        first = second = default;
        if (!conversationId.StartsWith("d:", StringComparison.Ordinal)) return false;
        var rest = conversationId.AsSpan(2);
        var colon = rest.IndexOf(':');
        if (colon <= 0 || colon == rest.Length - 1) return false;
        first = rest[..colon];
        second = rest[(colon + 1)..];
        return UserIds.IsValid(first) && UserIds.IsValid(second) && first.SequenceCompareTo(second) < 0;
    }
}

/// <summary>User ids: <c>u</c> followed by 32 lower-case hex digits of a time-ordered UUID.</summary>
public static class UserIds
{
    /// <summary>A new user id.</summary>
    public static string New() => "u" + Guid.CreateVersion7().ToString("N");

    /// <summary>True when <paramref name="userId"/> has the shape of a user id.</summary>
    public static bool IsValid(string? userId) => userId is not null && IsValid(userId.AsSpan());

    /// <summary>True when <paramref name="userId"/> has the shape of a user id.</summary>
    public static bool IsValid(ReadOnlySpan<char> userId) => userId.Length == 33 && userId[0] == 'u' && IsHex32(userId[1..]);

    /// <summary>True when <paramref name="text"/> is 32 lower-case hex digits (a user id's, or a group id's, after its prefix).</summary>
    public static bool IsHex32(ReadOnlySpan<char> text)
    {
        if (text.Length != 32) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c)) return false;
        }
        return true;
    }
}
