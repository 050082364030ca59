using System.Text;
using Microsoft.Data.Sqlite;
using static Messenger.Grains.Storage.StoreTime;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// <see cref="IConversationStore"/> on the <c>conversations</c>, <c>conversation_members</c> and
/// <c>messages</c> tables of a <see cref="SqliteDatabase"/>.
/// </summary>
public sealed class SqliteConversationStore(SqliteDatabase database) : IConversationStore
{
    private const string MessageColumns = "m.seq, s.user_id, m.client_msg_id, m.text, m.sent_at, m.event";

    // The messages of conversation $c with their senders' ids (rows are keyed by integers: conversation_keys, user_keys).
    private const string MessagesOf = $"""
        messages m JOIN user_keys s ON s.user_key = m.sender_key
        WHERE m.conversation_key = {SqliteIdKeys.ConversationKeyOfParameter}
        """;

    // The end of the log of the conversation row aliased c (one index seek).
    private const string LastSeqOfC = """
        COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_key =
            (SELECT conversation_key FROM conversation_keys k WHERE k.conversation_id = c.conversation_id)), 0)
        """;

    /// <inheritdoc />
    public Task CreateConversationAsync(ConversationInfo conversation) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("INSERT INTO conversations (conversation_id, kind, created_at) VALUES ($c, $k, $t) ON CONFLICT DO NOTHING");
        cmd.Bind("$c", conversation.ConversationId);
        cmd.Bind("$k", (int)conversation.Kind);
        cmd.Bind("$t", conversation.CreatedAt.ToUnixTimeMilliseconds());
        if (cmd.ExecuteNonQuery() == 0) return 0;
        foreach (var member in conversation.Members)
        {
            var m = w.Statement("INSERT INTO conversation_members (conversation_id, user_id) VALUES ($c, $u) ON CONFLICT DO NOTHING");
            m.Bind("$c", conversation.ConversationId);
            m.Bind("$u", member);
            m.ExecuteNonQuery();
        }
        return 1;
    });

    /// <inheritdoc />
    public async Task<ConversationRecord?> GetConversationAsync(string conversationId)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT c.kind, c.created_at, c.fanned_out_seq, {LastSeqOfC}, c.title,
                   m.user_id, m.role, m.joined_seq, m.left_seq, m.deleted, m.delivered_seq, m.read_seq
            FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.conversation_id
            WHERE c.conversation_id = $c
            """;
        Sql.Bind(cmd, "$c", conversationId);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        var (kind, createdAt, fannedOut, lastSeq, title) =
            ((ConversationKind)r.GetInt32(0), FromMs(r.GetInt64(1)), r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4));
        var members = new List<MemberRecord>();
        do
        {
            if (r.IsDBNull(5)) continue;
            members.Add(new MemberRecord(r.GetString(5), (MemberRole)r.GetInt32(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9) != 0,
                r.GetInt64(10), r.GetInt64(11)));
        }
        while (await r.ReadAsync());
        return ConversationRecord.Of(conversationId, kind, createdAt, title, lastSeq, fannedOut, members);
    }

    /// <inheritdoc />
    public Task MarkMemberDeletedAsync(string conversationId, string userId) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("UPDATE conversation_members SET deleted = 1 WHERE conversation_id = $c AND user_id = $u");
        cmd.Bind("$c", conversationId);
        cmd.Bind("$u", userId);
        return cmd.ExecuteNonQuery();
    });

    /// <inheritdoc />
    public Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(string conversationId, long lastSeq, IReadOnlyList<NewMessage> messages) =>
        database.Writer.WriteAsync<(string, long, IReadOnlyList<NewMessage>), IReadOnlyList<AppendResult>>((conversationId, lastSeq, messages), static (w, write) =>
        {
            var (conversationId, lastSeq, messages) = write;
            // One index seek: the log must end exactly where the writer believes it does.
            var conversationKey = w.ConversationKey(conversationId);
            var check = w.Statement("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_key = $c");
            check.Bind("$c", conversationKey);
            var stored = (long)check.ExecuteScalar()!;
            if (stored != lastSeq)
            {
                throw new StoreConflictException($"Conversation {conversationId} is at seq {stored}, writer expected {lastSeq}.");
            }
            var results = new AppendResult[messages.Count];
            var seq = lastSeq;
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                // The unique (conversation, sender, clientMsgId) index decides: a retry inserts nothing
                // and is answered with the original, so the common path pays no lookup.
                var insert = message.Event is null
                    ? w.Statement("INSERT INTO messages (conversation_key, seq, sender_key, client_msg_id, text, sent_at) VALUES ($c, $s, $u, $m, $x, $t) "
                        + "ON CONFLICT (conversation_key, sender_key, client_msg_id) DO NOTHING")
                    : w.Statement("INSERT INTO messages (conversation_key, seq, sender_key, client_msg_id, text, sent_at, event) VALUES ($c, $s, $u, $m, $x, $t, $e) "
                        + "ON CONFLICT (conversation_key, sender_key, client_msg_id) DO NOTHING");
                if (message.Event is not null) insert.Bind("$e", EventColumn.Encode(message.Event)!);
                var senderKey = w.UserKey(message.SenderId);
                insert.Bind("$c", conversationKey);
                insert.Bind("$s", seq + 1);
                insert.Bind("$u", senderKey);
                insert.Bind("$m", message.ClientMsgId);
                insert.Bind("$x", message.Text);
                insert.Bind("$t", message.SentAt.ToUnixTimeMilliseconds());
                if (insert.ExecuteNonQuery() == 0)
                {
                    var existing = FindByClientMsgId(w, conversationId, conversationKey, senderKey, message.ClientMsgId)
                        ?? throw new InvalidOperationException("insert ignored but no original found");
                    results[i] = new AppendResult(existing, Duplicate: true);
                    continue;
                }
                seq++;
                var committed = message.At(conversationId, seq);
                if (committed.Event is not null) ApplyMembershipChanges(w, committed);
                results[i] = new AppendResult(committed, Duplicate: false);
            }
            return results;
        });

    private static void ApplyMembershipChanges(SqliteWriter w, ChatMessage committed)
    {
        foreach (var change in MembershipChange.Of(committed))
        {
            var cmd = change.Kind switch
            {
                MembershipChangeKind.Join => w.Statement("""
                    INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq, left_seq) VALUES ($c, $u, $r, $s, 0)
                    ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role, joined_seq = excluded.joined_seq, left_seq = 0
                    """),
                MembershipChangeKind.Leave => w.Statement(
                    "UPDATE conversation_members SET left_seq = $s WHERE conversation_id = $c AND user_id = $u AND left_seq = 0"),
                MembershipChangeKind.SetRole => w.Statement(
                    "UPDATE conversation_members SET role = $r WHERE conversation_id = $c AND user_id = $u AND left_seq = 0"),
                _ => w.Statement("UPDATE conversations SET title = $n WHERE conversation_id = $c"),
            };
            cmd.Bind("$c", committed.ConversationId);
            if (change.Kind == MembershipChangeKind.SetTitle)
            {
                cmd.Bind("$n", change.Title);
            }
            else
            {
                cmd.Bind("$u", change.UserId!);
                if (change.Kind != MembershipChangeKind.SetRole) cmd.Bind("$s", committed.Seq);
                if (change.Kind != MembershipChangeKind.Leave) cmd.Bind("$r", (int)change.Role);
            }
            cmd.ExecuteNonQuery();
        }
    }

    private static ChatMessage? FindByClientMsgId(SqliteWriter w, string conversationId, long conversationKey, long senderKey, string clientMsgId)
    {
        var cmd = w.Query($"""
            SELECT {MessageColumns} FROM messages m JOIN user_keys s ON s.user_key = m.sender_key
            WHERE m.conversation_key = $c AND m.sender_key = $u AND m.client_msg_id = $m
            """);
        Sql.Bind(cmd, "$c", conversationKey);
        Sql.Bind(cmd, "$u", senderKey);
        Sql.Bind(cmd, "$m", clientMsgId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadMessage(r, conversationId) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> ReadMessagesAsync(string conversationId, long cursor, HistoryDirection direction, int limit)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = direction == HistoryDirection.Before
            ? $"SELECT {MessageColumns} FROM {MessagesOf} AND m.seq < $s ORDER BY m.seq DESC LIMIT $l"
            : $"SELECT {MessageColumns} FROM {MessagesOf} AND m.seq > $s ORDER BY m.seq ASC LIMIT $l";
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$s", cursor);
        Sql.Bind(cmd, "$l", limit);
        var messages = new List<ChatMessage>(Math.Min(limit, 256));
        await ReadInto(cmd, conversationId, messages);
        if (direction == HistoryDirection.Before) messages.Reverse();
        return messages;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> ReadMessagesByKeyAsync(IReadOnlyList<MessageKey> keys)
    {
        if (keys.Count == 0) return [];
        // One query per conversation named; a page of a user's log usually names few.
        var seqsByConversation = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!seqsByConversation.TryGetValue(key.ConversationId, out var seqs)) seqsByConversation[key.ConversationId] = seqs = [];
            seqs.Add(key.Seq);
        }
        var found = new Dictionary<MessageKey, ChatMessage>(keys.Count);
        await using (var connection = await database.OpenReaderAsync())
        {
            var buffer = new List<ChatMessage>();
            foreach (var (conversationId, seqs) in seqsByConversation)
            {
                await using var cmd = connection.CreateCommand();
                seqs.Sort();
                var contiguous = seqs[^1] - seqs[0] + 1 == seqs.Count;
                // A run of seqs (a page of one conversation, the usual case) is one range scan.
                cmd.CommandText = contiguous
                    ? $"SELECT {MessageColumns} FROM {MessagesOf} AND m.seq BETWEEN $from AND $to ORDER BY m.seq"
                    : $"SELECT {MessageColumns} FROM {MessagesOf} AND m.seq IN (SELECT value FROM json_each($s)) ORDER BY m.seq";
                Sql.Bind(cmd, "$c", conversationId);
                if (contiguous)
                {
                    Sql.Bind(cmd, "$from", seqs[0]);
                    Sql.Bind(cmd, "$to", seqs[^1]);
                }
                else
                {
                    Sql.Bind(cmd, "$s", JsonArray(seqs));
                }
                buffer.Clear();
                await ReadInto(cmd, conversationId, buffer);
                foreach (var message in buffer) found[new MessageKey(conversationId, message.Seq)] = message;
            }
        }
        return MessageKey.InKeyOrder(keys, found);
    }

    private static string JsonArray(List<long> values)
    {
        var text = new StringBuilder(values.Count * 8).Append('[');
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0) text.Append(',');
            text.Append(values[i]);
        }
        return text.Append(']').ToString();
    }

    private static async Task ReadInto(SqliteCommand cmd, string conversationId, List<ChatMessage> messages)
    {
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) messages.Add(ReadMessage(r, conversationId));
    }

    private static ChatMessage ReadMessage(SqliteDataReader r, string conversationId) =>
        new(conversationId, r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), FromMs(r.GetInt64(4)),
            r.IsDBNull(5) ? null : EventColumn.Decode(r.GetString(5)));

    /// <inheritdoc />
    public Task SaveReceiptsAsync(string conversationId, IReadOnlyList<MemberReceipts> receipts) => database.Writer.WriteAsync(w =>
    {
        foreach (var receipt in receipts)
        {
            var cmd = w.Statement("""
                UPDATE conversation_members SET delivered_seq = MAX(delivered_seq, $d), read_seq = MAX(read_seq, $r)
                WHERE conversation_id = $c AND user_id = $u
                """);
            cmd.Bind("$c", conversationId);
            cmd.Bind("$u", receipt.UserId);
            cmd.Bind("$d", receipt.DeliveredSeq);
            cmd.Bind("$r", receipt.ReadSeq);
            cmd.ExecuteNonQuery();
        }
        return 0;
    });

    /// <inheritdoc />
    public Task SetFannedOutAsync(string conversationId, long seq) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("UPDATE conversations SET fanned_out_seq = $s WHERE conversation_id = $c AND fanned_out_seq < $s");
        cmd.Bind("$s", seq);
        cmd.Bind("$c", conversationId);
        return cmd.ExecuteNonQuery();
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(string? after, int limit)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        // Text compares byte by byte here (BINARY): ordinal order, the primary key's.
        cmd.CommandText = $"""
            SELECT c.conversation_id FROM conversations c
            WHERE c.conversation_id > $a AND c.fanned_out_seq < {LastSeqOfC}
            ORDER BY c.conversation_id
            LIMIT $l
            """;
        Sql.Bind(cmd, "$a", after ?? "");
        Sql.Bind(cmd, "$l", limit);
        var ids = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) ids.Add(r.GetString(0));
        return ids;
    }
}
