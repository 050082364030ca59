using System.Data.Common;

namespace Messenger.Grains.Storage;

/// <summary>The <c>push_outbox</c> columns as both backends read them, in one order.</summary>
internal static class PushOutboxRows
{
    public const string Columns = "conversation_id, seq, user_seq, sender_id, sent_at, state, due_at, attempts, targets, detail, created_at, updated_at";

    public static PushRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetInt64(4), (PushState)Convert.ToInt32(r.GetValue(5)),
        r.GetInt64(6), Convert.ToInt32(r.GetValue(7)), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
        r.GetInt64(10), r.GetInt64(11));
}
