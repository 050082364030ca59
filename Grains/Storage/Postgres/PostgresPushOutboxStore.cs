using Npgsql;

namespace Messenger.Grains.Storage.Postgres;

/// <summary><see cref="IPushOutboxStore"/> over partitioned databases: a user's outbox lives with the user's log.</summary>
internal sealed class PostgresPushOutboxStore(PostgresShards shards) : IPushOutboxStore
{
    /// <summary>New rows, in the batch (the transaction) that appends the user's pointers.</summary>
    internal static void AddInserts(NpgsqlBatch batch, string userId, IReadOnlyList<PushRecord> records)
    {
        batch.Add($"""
            INSERT INTO push_outbox (user_id, {PushOutboxRows.Columns})
            SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::smallint[], $8::bigint[],
                                     $9::integer[], $10::text[], $11::text[], $12::bigint[], $13::bigint[])
            ON CONFLICT (user_id, conversation_id, seq) DO NOTHING
            """)
            .With(userId)
            .With(records.Select(p => p.ConversationId).ToArray())
            .With(records.Select(p => p.Seq).ToArray())
            .With(records.Select(p => p.UserSeq).ToArray())
            .With(records.Select(p => p.SenderId).ToArray())
            .With(records.Select(p => p.SentAtMs).ToArray())
            .With(records.Select(p => (short)p.State).ToArray())
            .With(records.Select(p => p.DueMs).ToArray())
            .With(records.Select(p => p.Attempts).ToArray())
            .With(records.Select(p => p.Targets).ToArray())
            .With(records.Select(p => p.Detail).ToArray())
            .With(records.Select(p => p.CreatedMs).ToArray())
            .With(records.Select(p => p.UpdatedMs).ToArray());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PushRecord>> ReadPendingAsync(string userId)
    {
        await using var cmd = shards.For(userId).Command($"SELECT {PushOutboxRows.Columns} FROM push_outbox WHERE user_id = $1 AND state = 0 ORDER BY user_seq");
        cmd.Parameters.With(userId);
        return await ReadAllAsync(cmd);
    }

    /// <inheritdoc />
    public async Task UpdateAsync(string userId, IReadOnlyList<PushRecord> records)
    {
        if (records.Count == 0) return;
        await using var cmd = shards.For(userId).Command("""
            UPDATE push_outbox o SET state = u.state, due_at = u.due_at, attempts = u.attempts, targets = u.targets,
                                     detail = u.detail, updated_at = u.updated_at
            FROM unnest($2::text[], $3::bigint[], $4::smallint[], $5::bigint[], $6::integer[], $7::text[], $8::text[], $9::bigint[])
                AS u (conversation_id, seq, state, due_at, attempts, targets, detail, updated_at)
            WHERE o.user_id = $1 AND o.conversation_id = u.conversation_id AND o.seq = u.seq
            """);
        cmd.Parameters.With(userId)
            .With(records.Select(p => p.ConversationId).ToArray())
            .With(records.Select(p => p.Seq).ToArray())
            .With(records.Select(p => (short)p.State).ToArray())
            .With(records.Select(p => p.DueMs).ToArray())
            .With(records.Select(p => p.Attempts).ToArray())
            .With(records.Select(p => p.Targets).ToArray())
            .With(records.Select(p => p.Detail).ToArray())
            .With(records.Select(p => p.UpdatedMs).ToArray());
        await cmd.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PushRecord>> ReadAsync(string userId, string conversationId, long afterSeq, int limit)
    {
        await using var cmd = shards.For(userId).Command($"""
            SELECT {PushOutboxRows.Columns} FROM push_outbox
            WHERE user_id = $1 AND conversation_id = $2 AND seq > $3 ORDER BY seq LIMIT $4
            """);
        cmd.Parameters.With(userId).With(conversationId).With(afterSeq).With((long)limit);
        return await ReadAllAsync(cmd);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListUsersDueAsync(long dueMs, int limit)
    {
        var users = new List<string>();
        foreach (var database in shards.All)
        {
            if (users.Count >= limit) break;
            await using var cmd = database.Command("SELECT user_id FROM push_outbox WHERE state = 0 AND due_at <= $1 GROUP BY user_id ORDER BY MIN(due_at) LIMIT $2");
            cmd.Parameters.With(dueMs).With((long)(limit - users.Count));
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) users.Add(r.GetString(0));
        }
        return users;
    }

    /// <inheritdoc />
    public async Task<int> PruneAsync(long beforeMs)
    {
        var pruned = 0;
        foreach (var database in shards.All)
        {
            // In batches, so no statement holds many rows' locks for long.
            while (true)
            {
                await using var cmd = database.Command("""
                    DELETE FROM push_outbox WHERE ctid IN (SELECT ctid FROM push_outbox WHERE state <> 0 AND updated_at < $1 LIMIT 1000)
                    """);
                cmd.Parameters.With(beforeMs);
                var deleted = await cmd.ExecuteNonQueryAsync();
                pruned += deleted;
                if (deleted < 1000) break;
            }
        }
        return pruned;
    }

    private static async Task<IReadOnlyList<PushRecord>> ReadAllAsync(NpgsqlCommand cmd)
    {
        var records = new List<PushRecord>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) records.Add(PushOutboxRows.Read(r));
        return records;
    }
}
