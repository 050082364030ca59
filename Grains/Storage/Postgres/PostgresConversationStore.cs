using Npgsql;
using static Messenger.Grains.Storage.StoreTime;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// <see cref="IConversationStore"/> over partitioned databases: a conversation's rows (metadata,
/// members, log) live in the database holding the partition of its id.
/// </summary>
internal sealed class PostgresConversationStore(PostgresShards shards) : IConversationStore
{
    private const string MessageColumns = "conversation_id, seq, sender_id, client_msg_id, text, sent_at, event";

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
            SELECT c.kind, c.created_at, c.fanned_out_seq,
                   COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = $1), 0), c.title,
                   m.user_id, m.role, m.joined_seq, m.left_seq, m.deleted, m.delivered_seq, m.read_seq
            FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.conversation_id
            WHERE c.conversation_id = $1
            """);
        cmd.Parameters.With(conversationId);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        var (kind, createdAt, fannedOut, lastSeq, title) =
            ((ConversationKind)r.GetInt16(0), FromMs(r.GetInt64(1)), r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4));
        var members = new List<MemberRecord>();
        do
        {
            if (r.IsDBNull(5)) continue;
            members.Add(new MemberRecord(r.GetString(5), (MemberRole)r.GetInt16(6), r.GetInt64(7), r.GetInt64(8), r.GetBoolean(9),
                r.GetInt64(10), r.GetInt64(11)));
        }
        while (await r.ReadAsync());
        return ConversationRecord.Of(conversationId, kind, createdAt, title, lastSeq, fannedOut, members);
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
        await using (var read = database.Batch())
        {
            read.Add("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = $1").With(conversationId);
            read.Add($"""
                SELECT {MessageColumns} FROM messages
                WHERE conversation_id = $1 AND (sender_id, client_msg_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
                """).With(conversationId).With(senders).With(clientMsgIds);
            await using var r = await read.ExecuteReaderAsync();
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
            var committed = message.At(conversationId, ++seq);
            originals[(message.SenderId, message.ClientMsgId)] = committed; // a repeat later in this batch is its duplicate
            fresh.Add(committed);
            results[i] = new AppendResult(committed, Duplicate: false);
        }
        if (fresh.Count == 0) return results;

        // One batch (one round trip, one implicit transaction): the messages, and what their membership events change.
        await using var batch = database.Batch();
        var (seqs, freshSenders, freshIds, texts, sentAt, events) =
            (new long[fresh.Count], new string[fresh.Count], new string[fresh.Count], new string[fresh.Count], new long[fresh.Count], new string?[fresh.Count]);
        for (var i = 0; i < fresh.Count; i++)
        {
            (seqs[i], freshSenders[i], freshIds[i], texts[i], sentAt[i], events[i]) =
                (fresh[i].Seq, fresh[i].SenderId, fresh[i].ClientMsgId, fresh[i].Text, fresh[i].SentAt.ToUnixTimeMilliseconds(), EventColumn.Encode(fresh[i].Event));
        }
        batch.Add($"""
            INSERT INTO messages ({MessageColumns})
            SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
            """).With(conversationId).With(seqs).With(freshSenders).With(freshIds).With(texts).With(sentAt).With(events);
        foreach (var message in fresh)
        {
            if (message.Event is not null) AddMembershipChanges(batch, message);
        }
        try
        {
            await batch.ExecuteNonQueryAsync();
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
                SELECT m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.text, m.sent_at, m.event
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
    public async Task SaveReceiptsAsync(string conversationId, IReadOnlyList<MemberReceipts> receipts)
    {
        if (receipts.Count == 0) return;
        var (users, delivered, read) = (new string[receipts.Count], new long[receipts.Count], new long[receipts.Count]);
        for (var i = 0; i < receipts.Count; i++) (users[i], delivered[i], read[i]) = (receipts[i].UserId, receipts[i].DeliveredSeq, receipts[i].ReadSeq);
        await using var cmd = shards.For(conversationId).Command("""
            UPDATE conversation_members m SET delivered_seq = GREATEST(m.delivered_seq, r.delivered), read_seq = GREATEST(m.read_seq, r.read)
            FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r(user_id, delivered, read)
            WHERE m.conversation_id = $1 AND m.user_id = r.user_id
            """);
        cmd.Parameters.With(conversationId).With(users).With(delivered).With(read);
        await cmd.ExecuteNonQueryAsync();
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
    public async Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(string? after, int limit)
    {
        // Each database's first page after the cursor, merged: the first `limit` of them all is the page.
        // COLLATE "C" compares bytes, the ordinal order the merge below uses, whatever the database's collation.
        var ids = new List<string>();
        foreach (var database in shards.All)
        {
            await using var cmd = database.Command("""
                SELECT c.conversation_id FROM conversations c
                WHERE c.conversation_id COLLATE "C" > $1
                  AND c.fanned_out_seq < COALESCE((SELECT MAX(seq) FROM messages m WHERE m.conversation_id = c.conversation_id), 0)
                ORDER BY c.conversation_id COLLATE "C"
                LIMIT $2
                """);
            cmd.Parameters.With(after ?? "").With((long)limit);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) ids.Add(r.GetString(0));
        }
        ids.Sort(StringComparer.Ordinal);
        return ids.Count > limit ? ids[..limit] : ids;
    }

    private static void AddMembershipChanges(NpgsqlBatch batch, ChatMessage committed)
    {
        foreach (var change in MembershipChange.Of(committed))
        {
            _ = change.Kind switch
            {
                MembershipChangeKind.Join => batch.Add("""
                    INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq, left_seq) VALUES ($1, $2, $3, $4, 0)
                    ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role, joined_seq = excluded.joined_seq, left_seq = 0
                    """).With(committed.ConversationId).With(change.UserId!).With((short)change.Role).With(committed.Seq),
                MembershipChangeKind.Leave => batch.Add(
                    "UPDATE conversation_members SET left_seq = $3 WHERE conversation_id = $1 AND user_id = $2 AND left_seq = 0")
                    .With(committed.ConversationId).With(change.UserId!).With(committed.Seq),
                MembershipChangeKind.SetRole => batch.Add(
                    "UPDATE conversation_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2 AND left_seq = 0")
                    .With(committed.ConversationId).With(change.UserId!).With((short)change.Role),
                _ => batch.Add("UPDATE conversations SET title = $2 WHERE conversation_id = $1").With(committed.ConversationId).With(change.Title),
            };
        }
    }

    private static ChatMessage ReadMessage(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), FromMs(r.GetInt64(5)),
            r.IsDBNull(6) ? null : EventColumn.Decode(r.GetString(6)));
}
