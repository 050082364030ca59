using Npgsql;
using static Messenger.Grains.Storage.StoreTime;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// <see cref="IConversationStore"/> over partitioned databases: a conversation's rows (metadata,
/// members, log) live in the database holding the partition of its id.
/// </summary>
internal sealed class PostgresConversationStore(PostgresShards shards) : IConversationStore
{
    private const string MessageColumns = "conversation_id, seq, sender_id, client_msg_id, text, sent_at";

    /// <inheritdoc />
    public async Task CreateConversationAsync(ConversationInfo conversation)
    {
        // One statement: the members are written only by the call that created the conversation.
        await using var cmd = shards.For(conversation.ConversationId).Command("""
            WITH created AS (
                INSERT INTO conversations (conversation_id, kind, created_at) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING RETURNING conversation_id)
            INSERT INTO conversation_members (conversation_id, user_id)
            SELECT created.conversation_id, member FROM created, unnest($4::text[]) AS member
            ON CONFLICT DO NOTHING
            """);
        cmd.Parameters.With(conversation.ConversationId).With((short)conversation.Kind)
            .With(conversation.CreatedAt.ToUnixTimeMilliseconds()).With(conversation.Members.ToArray());
        await cmd.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task<ConversationRecord?> GetConversationAsync(string conversationId)
    {
        await using var cmd = shards.For(conversationId).Command("""
            SELECT kind, created_at, fanned_out_seq,
                   COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = $1), 0),
                   ARRAY(SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY user_id COLLATE "C"),
                   ARRAY(SELECT user_id FROM conversation_members WHERE conversation_id = $1 AND deleted ORDER BY user_id COLLATE "C")
            FROM conversations WHERE conversation_id = $1
            """);
        cmd.Parameters.With(conversationId);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        var info = new ConversationInfo(conversationId, (ConversationKind)r.GetInt16(0), r.GetFieldValue<string[]>(4), FromMs(r.GetInt64(1)));
        return new ConversationRecord(info, LastSeq: r.GetInt64(3), FannedOutSeq: r.GetInt64(2), DeletedMembers: r.GetFieldValue<string[]>(5));
    }

    /// <inheritdoc />
    public async Task MarkMemberDeletedAsync(string conversationId, string userId)
    {
        await using var cmd = shards.For(conversationId).Command(
            "UPDATE conversation_members SET deleted = true WHERE conversation_id = $1 AND user_id = $2 AND NOT deleted");
        cmd.Parameters.With(conversationId).With(userId);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(string conversationId, long lastSeq, IReadOnlyList<NewMessage> messages)
    {
        var database = shards.For(conversationId);
        var senders = new string[messages.Count];
        var clientMsgIds = new string[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            senders[i] = messages[i].SenderId;
            clientMsgIds[i] = messages[i].ClientMsgId;
        }

        // One round trip reads where the log ends and which of the batch it already holds. Nothing
        // here needs a transaction: the insert below is one statement, and if another writer appended
        // or committed one of these sends after this read, the log's keys refuse the insert.
        long stored;
        var originals = new Dictionary<(string Sender, string ClientMsgId), ChatMessage>();
        await using (var batch = database.Batch())
        {
            batch.Add("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = $1").With(conversationId);
            batch.Add($"""
                SELECT {MessageColumns} FROM messages
                WHERE conversation_id = $1 AND (sender_id, client_msg_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
                """).With(conversationId).With(senders).With(clientMsgIds);
            await using var r = await batch.ExecuteReaderAsync();
            await r.ReadAsync();
            stored = r.GetInt64(0);
            await r.NextResultAsync();
            while (await r.ReadAsync())
            {
                var original = ReadMessage(r);
                originals[(original.SenderId, original.ClientMsgId)] = original;
            }
        }
        if (stored != lastSeq)
        {
            throw new StoreConflictException($"Conversation {conversationId} is at seq {stored}, writer expected {lastSeq}.");
        }

        var results = new AppendResult[messages.Count];
        var fresh = new List<ChatMessage>(messages.Count);
        var seq = lastSeq;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (originals.TryGetValue((message.SenderId, message.ClientMsgId), out var original))
            {
                results[i] = new AppendResult(original, Duplicate: true);
                continue;
            }
            var committed = new ChatMessage(conversationId, ++seq, message.SenderId, message.ClientMsgId, message.Text, TruncateToMs(message.SentAt));
            originals[(message.SenderId, message.ClientMsgId)] = committed; // a repeat later in this batch is its duplicate
            fresh.Add(committed);
            results[i] = new AppendResult(committed, Duplicate: false);
        }
        if (fresh.Count == 0) return results;

        await using var insert = database.Command($"""
            INSERT INTO messages ({MessageColumns})
            SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])
            """);
        var (seqs, freshSenders, freshIds, texts, sentAt) =
            (new long[fresh.Count], new string[fresh.Count], new string[fresh.Count], new string[fresh.Count], new long[fresh.Count]);
        for (var i = 0; i < fresh.Count; i++)
        {
            (seqs[i], freshSenders[i], freshIds[i], texts[i], sentAt[i]) =
                (fresh[i].Seq, fresh[i].SenderId, fresh[i].ClientMsgId, fresh[i].Text, fresh[i].SentAt.ToUnixTimeMilliseconds());
        }
        insert.Parameters.With(conversationId).With(seqs).With(freshSenders).With(freshIds).With(texts).With(sentAt);
        try
        {
            await insert.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex) when (ex.IsUniqueViolation())
        {
            throw new StoreConflictException($"Conversation {conversationId}: another writer appended after seq {lastSeq} ({ex.ConstraintName}).");
        }
        return results;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> ReadMessagesAsync(string conversationId, long cursor, HistoryDirection direction, int limit)
    {
        await using var cmd = shards.For(conversationId).Command(direction == HistoryDirection.Before
            ? $"SELECT {MessageColumns} FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            : $"SELECT {MessageColumns} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3");
        cmd.Parameters.With(conversationId).With(cursor).With((long)limit);
        var messages = new List<ChatMessage>(Math.Min(limit, 256));
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync()) messages.Add(ReadMessage(r));
        }
        if (direction == HistoryDirection.Before) messages.Reverse();
        return messages;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> ReadMessagesByKeyAsync(IReadOnlyList<MessageKey> keys)
    {
        if (keys.Count == 0) return [];
        // One query per database holding any of the keys.
        var byDatabase = new Dictionary<PostgresDatabase, (List<string> Conversations, List<long> Seqs)>();
        foreach (var key in keys)
        {
            var database = shards.For(key.ConversationId);
            if (!byDatabase.TryGetValue(database, out var list)) byDatabase[database] = list = ([], []);
            list.Conversations.Add(key.ConversationId);
            list.Seqs.Add(key.Seq);
        }
        var found = new Dictionary<MessageKey, ChatMessage>(keys.Count);
        foreach (var (database, (conversations, seqs)) in byDatabase)
        {
            await using var cmd = database.Command("""
                SELECT m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.text, m.sent_at
                FROM unnest($1::text[], $2::bigint[]) AS k(conversation_id, seq)
                JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
                """);
            cmd.Parameters.With(conversations.ToArray()).With(seqs.ToArray());
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var message = ReadMessage(r);
                found[new MessageKey(message.ConversationId, message.Seq)] = message;
            }
        }
        return MessageKey.InKeyOrder(keys, found);
    }

    /// <inheritdoc />
    public async Task SetFannedOutAsync(string conversationId, long seq)
    {
        await using var cmd = shards.For(conversationId).Command(
            "UPDATE conversations SET fanned_out_seq = $2 WHERE conversation_id = $1 AND fanned_out_seq < $2");
        cmd.Parameters.With(conversationId).With(seq);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(int limit)
    {
        var ids = new List<string>();
        foreach (var database in shards.All)
        {
            if (ids.Count >= limit) break;
            await using var cmd = database.Command("""
                SELECT c.conversation_id FROM conversations c
                WHERE c.fanned_out_seq < COALESCE((SELECT MAX(seq) FROM messages m WHERE m.conversation_id = c.conversation_id), 0)
                LIMIT $1
                """);
            cmd.Parameters.With((long)(limit - ids.Count));
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) ids.Add(r.GetString(0));
        }
        return ids;
    }

    private static ChatMessage ReadMessage(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), FromMs(r.GetInt64(5)));
}
