using System.Data.Common;

namespace Messenger.Grains.Storage;

/// <summary>
/// How every backend stores an entry of a user's conversation list: the columns
/// <c>conversation_id, kind, created_at, members, last_seq, read_seq, title, member_count, left_group, muted_until</c>,
/// the members as one text of ids separated by single spaces (ids contain none; a group's entry keeps none).
/// </summary>
internal static class UserConversationRows
{
    /// <summary>The columns, in the order <see cref="Read"/> expects.</summary>
    public const string Columns = "conversation_id, kind, created_at, members, last_seq, read_seq, title, member_count, left_group, muted_until";

    /// <summary>The members as stored.</summary>
    public static string JoinMembers(IReadOnlyList<string> members) => string.Join(' ', members);

    /// <summary>The entry at the reader's current row.</summary>
    public static UserConversation Read(DbDataReader r)
    {
        var members = r.GetString(3).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Array.Sort(members, StringComparer.Ordinal);
        var info = new ConversationInfo(r.GetString(0), (ConversationKind)r.GetInt32(1), members, StoreTime.FromMs(r.GetInt64(2)),
            Title: r.IsDBNull(6) ? null : r.GetString(6), MemberCount: r.GetInt32(7));
        return new UserConversation(info, r.GetInt64(4), r.GetInt64(5), Left: r.GetBoolean(8), MutedUntilMs: r.GetInt64(9));
    }
}
