using Npgsql;
using static Messenger.Grains.Storage.StoreTime;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// <see cref="IUserLogStore"/> over partitioned databases: a user's log, list checkpoint and last seen
/// live in the database holding the partition of the user id. No statement here reads a
/// conversation's tables.
/// </summary>
internal sealed class PostgresUserLogStore(PostgresShards shards) : IUserLogStore
{
    /// <inheritdoc />
    public async Task AppendUpdatesAsync(string userId, IReadOnlyList<UpdatePointer> updates, IReadOnlyList<UserConversation> entries,
        IReadOnlyList<PushRecord>? pushes = null)
    {
        if (updates.Count == 0 && entries.Count == 0 && (pushes is null || pushes.Count == 0)) return;
        var userSeqs = new long[updates.Count];
        var kinds = new short[updates.Count];
        var conversations = new string[updates.Count];
        var seqs = new long[updates.Count];
        var fromSelf = new bool[updates.Count];
        var receipts = new string?[updates.Count];
        for (var i = 0; i < updates.Count; i++)
        {
            (userSeqs[i], kinds[i], conversations[i], seqs[i], fromSelf[i], receipts[i]) =
                (updates[i].UserSeq, (short)updates[i].Kind, updates[i].ConversationId, updates[i].Seq, updates[i].FromSelf, ReceiptsColumn.Encode(updates[i].Receipts));
        }
        // One batch: one round trip and one implicit transaction for the pointers and the entries they change.
        await using var batch = shards.For(userId).Batch();
        if (updates.Count > 0)
        {
            batch.Add("""
                INSERT INTO user_updates (user_id, user_seq, kind, conversation_id, seq, from_self, receipts)
                SELECT $1, * FROM unnest($2::bigint[], $3::smallint[], $4::text[], $5::bigint[], $6::boolean[], $7::text[])
                """).With(userId).With(userSeqs).With(kinds).With(conversations).With(seqs).With(fromSelf).With(receipts);
        }
        AddEntries(batch, userId, entries);
        if (pushes is { Count: > 0 }) PostgresPushOutboxStore.AddInserts(batch, userId, pushes);
        try
        {
            await batch.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex) when (ex.IsUniqueViolation())
        {
            throw new StoreConflictException($"User {userId}: updates {userSeqs[0]}…{userSeqs[^1]} conflict with updates another writer made.");
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<UpdatePointer>> ReadUpdatesAsync(string userId, long afterUserSeq, int limit)
    {
        await using var cmd = shards.For(userId).Command("""
            SELECT user_seq, kind, conversation_id, seq, from_self, receipts FROM user_updates
            WHERE user_id = $1 AND user_seq > $2 ORDER BY user_seq LIMIT $3
            """);
        cmd.Parameters.With(userId).With(afterUserSeq).With((long)limit);
        var updates = new List<UpdatePointer>(Math.Min(limit, 1024));
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            updates.Add(new UpdatePointer(r.GetInt64(0), (UpdateKind)r.GetInt16(1), r.GetString(2), r.GetInt64(3), r.GetBoolean(4),
                r.IsDBNull(5) ? null : ReceiptsColumn.Decode(r.GetString(5))));
        }
        return updates;
    }

    /// <inheritdoc />
    public async Task<long> FindUserSeqAsync(string userId, string conversationId, long seq)
    {
        // No index by message: walk the user's log back from its end, where retried sends are found.
        await using var cmd = shards.For(userId).Command("""
            SELECT user_seq FROM user_updates WHERE user_id = $1 AND conversation_id = $2 AND kind = 1 AND seq = $3
            ORDER BY user_seq DESC LIMIT 1
            """);
        cmd.Parameters.With(userId).With(conversationId).With(seq);
        return await cmd.ExecuteScalarAsync() is long userSeq ? userSeq : 0;
    }

    /// <inheritdoc />
    public async Task<UserRecord> LoadUserAsync(string userId)
    {
        await using var batch = shards.For(userId).Batch();
        batch.Add("SELECT COALESCE(MAX(user_seq), 0) FROM user_updates WHERE user_id = $1").With(userId);
        batch.Add("SELECT checkpoint_user_seq, last_seen FROM user_state WHERE user_id = $1").With(userId);
        batch.Add($"SELECT {UserConversationRows.Columns} FROM user_conversations WHERE user_id = $1").With(userId);
        await using var r = await batch.ExecuteReaderAsync();
        await r.ReadAsync();
        var lastUserSeq = r.GetInt64(0);
        await r.NextResultAsync();
        long checkpoint = 0;
        DateTimeOffset? lastSeen = null;
        if (await r.ReadAsync())
        {
            checkpoint = r.GetInt64(0);
            lastSeen = r.IsDBNull(1) ? null : FromMs(r.GetInt64(1));
        }
        await r.NextResultAsync();
        var entries = new List<UserConversation>();
        while (await r.ReadAsync()) entries.Add(UserConversationRows.Read(r));
        return new UserRecord(lastUserSeq, checkpoint, entries, lastSeen);
    }

    /// <inheritdoc />
    public async Task SaveConversationsAsync(string userId, IReadOnlyList<UserConversation> entries, long checkpointUserSeq)
    {
        await using var batch = shards.For(userId).Batch();
        AddEntries(batch, userId, entries);
        if (checkpointUserSeq > 0)
        {
            batch.Add("""
                INSERT INTO user_state (user_id, checkpoint_user_seq) VALUES ($1, $2)
                ON CONFLICT (user_id) DO UPDATE SET checkpoint_user_seq = GREATEST(user_state.checkpoint_user_seq, excluded.checkpoint_user_seq)
                """).With(userId).With(checkpointUserSeq);
        }
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync();
    }

    private static void AddEntries(NpgsqlBatch batch, string userId, IReadOnlyList<UserConversation> entries)
    {
        if (entries.Count == 0) return;
        // One upsert can touch a row once: entries for the same conversation merge first, as saving
        // them one after another would (seqs only move forward; the metadata of the last one wins).
        var merged = new Dictionary<string, UserConversation>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var id = entry.Conversation.ConversationId;
            merged[id] = merged.TryGetValue(id, out var earlier)
                ? entry with { LastSeq = Math.Max(earlier.LastSeq, entry.LastSeq), ReadSeq = Math.Max(earlier.ReadSeq, entry.ReadSeq) }
                : entry;
        }
        var rows = merged.Values;
        batch.Add($"""
            INSERT INTO user_conversations (user_id, {UserConversationRows.Columns})
            SELECT $1, * FROM unnest($2::text[], $3::smallint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[],
                                     $8::text[], $9::integer[], $10::boolean[], $11::bigint[])
            ON CONFLICT (user_id, conversation_id) DO UPDATE SET
                kind = excluded.kind, muted_until = excluded.muted_until,
                members = CASE WHEN excluded.last_seq >= user_conversations.last_seq THEN excluded.members ELSE user_conversations.members END,
                title = CASE WHEN excluded.last_seq >= user_conversations.last_seq THEN excluded.title ELSE user_conversations.title END,
                member_count = CASE WHEN excluded.last_seq >= user_conversations.last_seq THEN excluded.member_count ELSE user_conversations.member_count END,
                left_group = CASE WHEN excluded.last_seq >= user_conversations.last_seq THEN excluded.left_group ELSE user_conversations.left_group END,
                last_seq = GREATEST(user_conversations.last_seq, excluded.last_seq),
                read_seq = GREATEST(user_conversations.read_seq, excluded.read_seq)
            """)
            .With(userId)
            .With(rows.Select(e => e.Conversation.ConversationId).ToArray())
            .With(rows.Select(e => (short)e.Conversation.Kind).ToArray())
            .With(rows.Select(e => e.Conversation.CreatedAt.ToUnixTimeMilliseconds()).ToArray())
            .With(rows.Select(e => UserConversationRows.JoinMembers(e.Conversation.Members)).ToArray())
            .With(rows.Select(e => e.LastSeq).ToArray())
            .With(rows.Select(e => e.ReadSeq).ToArray())
            .With(rows.Select(e => e.Conversation.Title).ToArray())
            .With(rows.Select(e => e.Conversation.MemberCount).ToArray())
            .With(rows.Select(e => e.Left).ToArray())
            .With(rows.Select(e => e.MutedUntilMs).ToArray());
    }

    /// <inheritdoc />
    public async Task SetLastSeenAsync(string userId, DateTimeOffset lastSeen)
    {
        await using var cmd = shards.For(userId).Command("""
            INSERT INTO user_state (user_id, last_seen) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET last_seen = excluded.last_seen
            """);
        cmd.Parameters.With(userId).With(lastSeen.ToUnixTimeMilliseconds());
        await cmd.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task RecordSeenAsync(IReadOnlyList<string> userIds, DateTimeOffset seenAt)
    {
        // One statement per database, for the users whose partitions it holds.
        foreach (var users in userIds.GroupBy(shards.For))
        {
            await using var cmd = users.Key.Command("UPDATE user_state SET last_seen = $2 WHERE user_id = ANY($1) AND last_seen IS NOT NULL");
            cmd.Parameters.With(users.ToArray()).With(seenAt.ToUnixTimeMilliseconds());
            await cmd.ExecuteNonQueryAsync();
        }
    }

    /// <inheritdoc />
    public async Task DeleteUserAsync(string userId)
    {
        // One batch: one round trip and one implicit transaction, in the user's own database.
        await using var batch = shards.For(userId).Batch();
        batch.Add("DELETE FROM user_updates WHERE user_id = $1").With(userId);
        batch.Add("DELETE FROM user_conversations WHERE user_id = $1").With(userId);
        batch.Add("DELETE FROM user_state WHERE user_id = $1").With(userId);
        batch.Add("DELETE FROM push_outbox WHERE user_id = $1").With(userId);
        await batch.ExecuteNonQueryAsync();
    }
}
