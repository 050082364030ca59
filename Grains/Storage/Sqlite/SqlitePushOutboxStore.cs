namespace Messenger.Grains.Storage.Sqlite;

/// <summary><see cref="IPushOutboxStore"/> on the <c>push_outbox</c> table of a <see cref="SqliteDatabase"/> (the user logs' one).</summary>
public sealed class SqlitePushOutboxStore(SqliteDatabase database) : IPushOutboxStore
{
    /// <summary>New rows, inside a write of the user's log (so they commit with its pointers).</summary>
    internal static void Insert(SqliteWriter w, string userId, IReadOnlyList<PushRecord> records)
    {
        foreach (var p in records)
        {
            var cmd = w.Statement($"""
                INSERT INTO push_outbox (user_id, {PushOutboxRows.Columns})
                VALUES ($u, $c, $s, $q, $from, $sent, $state, $due, $n, $targets, $detail, $created, $updated)
                ON CONFLICT (user_id, conversation_id, seq) DO NOTHING
                """);
            cmd.Bind("$u", userId);
            Bind(cmd, p);
            cmd.ExecuteNonQuery();
        }
    }

    private static void Bind(WriterStatement cmd, PushRecord p)
    {
        cmd.Bind("$q", p.UserSeq);
        cmd.Bind("$from", p.SenderId);
        cmd.Bind("$sent", p.SentAtMs);
        cmd.Bind("$created", p.CreatedMs);
        BindState(cmd, p);
    }

    /// <summary>The row's key and the columns a state change writes.</summary>
    private static void BindState(WriterStatement cmd, PushRecord p)
    {
        cmd.Bind("$c", p.ConversationId);
        cmd.Bind("$s", p.Seq);
        cmd.Bind("$state", (int)p.State);
        cmd.Bind("$due", p.DueMs);
        cmd.Bind("$n", p.Attempts);
        cmd.Bind("$targets", p.Targets);
        cmd.Bind("$detail", p.Detail);
        cmd.Bind("$updated", p.UpdatedMs);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PushRecord>> ReadPendingAsync(string userId)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {PushOutboxRows.Columns} FROM push_outbox WHERE user_id = $u AND state = 0 ORDER BY user_seq";
        Sql.Bind(cmd, "$u", userId);
        return await ReadAllAsync(cmd);
    }

    /// <inheritdoc />
    public Task UpdateAsync(string userId, IReadOnlyList<PushRecord> records) => records.Count == 0 ? Task.CompletedTask : database.Writer.WriteAsync(w =>
    {
        foreach (var p in records)
        {
            var cmd = w.Statement("""
                UPDATE push_outbox SET state = $state, due_at = $due, attempts = $n, targets = $targets, detail = $detail, updated_at = $updated
                WHERE user_id = $u AND conversation_id = $c AND seq = $s
                """);
            cmd.Bind("$u", userId);
            BindState(cmd, p);
            cmd.ExecuteNonQuery();
        }
        return 0;
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<PushRecord>> ReadAsync(string userId, string conversationId, long afterSeq, int limit)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT {PushOutboxRows.Columns} FROM push_outbox
            WHERE user_id = $u AND conversation_id = $c AND seq > $a ORDER BY seq LIMIT $l
            """;
        Sql.Bind(cmd, "$u", userId);
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$a", afterSeq);
        Sql.Bind(cmd, "$l", limit);
        return await ReadAllAsync(cmd);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListUsersDueAsync(long dueMs, int limit)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT user_id FROM push_outbox WHERE state = 0 AND due_at <= $d GROUP BY user_id ORDER BY MIN(due_at) LIMIT $l";
        Sql.Bind(cmd, "$d", dueMs);
        Sql.Bind(cmd, "$l", limit);
        var users = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) users.Add(r.GetString(0));
        return users;
    }

    /// <inheritdoc />
    public async Task<int> PruneAsync(long beforeMs)
    {
        // In small batches: each holds the one writer (and every message's commit) only briefly.
        var pruned = 0;
        while (true)
        {
            var deleted = await database.Writer.WriteAsync(w =>
            {
                var cmd = w.Statement("""
                    DELETE FROM push_outbox WHERE (user_id, conversation_id, seq) IN (
                        SELECT user_id, conversation_id, seq FROM push_outbox WHERE state <> 0 AND updated_at < $b LIMIT 1000)
                    """);
                cmd.Bind("$b", beforeMs);
                return cmd.ExecuteNonQuery();
            });
            pruned += deleted;
            if (deleted < 1000) return pruned;
        }
    }

    private static async Task<IReadOnlyList<PushRecord>> ReadAllAsync(Microsoft.Data.Sqlite.SqliteCommand cmd)
    {
        var records = new List<PushRecord>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) records.Add(PushOutboxRows.Read(r));
        return records;
    }
}
