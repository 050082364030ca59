namespace Messenger.Grains.Storage.Sqlite;

/// <summary><see cref="IPushOutboxStore"/> on the <c>push_outbox</c> table of a <see cref="SqliteDatabase"/> (the user logs' one).</summary>
public sealed class SqlitePushOutboxStore(SqliteDatabase database) : IPushOutboxStore
{
    /// <summary>New rows, inside a write of the user's log (so they commit with its pointers).</summary>
    internal static void Insert(SqliteWriter w, string userId, IReadOnlyList<PushRecord> records)
    {
        foreach (var p in records)
        {
            var cmd = w.Command($"""
                INSERT INTO push_outbox (user_id, {PushOutboxRows.Columns})
                VALUES ($u, $c, $s, $q, $from, $sent, $state, $due, $n, $targets, $detail, $created, $updated)
                ON CONFLICT (user_id, conversation_id, seq) DO NOTHING
                """);
            Sql.Bind(cmd, "$u", userId);
            Bind(cmd, p);
            cmd.ExecuteNonQuery();
        }
    }

    private static void Bind(Microsoft.Data.Sqlite.SqliteCommand cmd, PushRecord p)
    {
        Sql.Bind(cmd, "$q", p.UserSeq);
        Sql.Bind(cmd, "$from", p.SenderId);
        Sql.Bind(cmd, "$sent", p.SentAtMs);
        Sql.Bind(cmd, "$created", p.CreatedMs);
        BindState(cmd, p);
    }

    /// <summary>The row's key and the columns a state change writes.</summary>
    private static void BindState(Microsoft.Data.Sqlite.SqliteCommand cmd, PushRecord p)
    {
        Sql.Bind(cmd, "$c", p.ConversationId);
        Sql.Bind(cmd, "$s", p.Seq);
        Sql.Bind(cmd, "$state", (int)p.State);
        Sql.Bind(cmd, "$due", p.DueMs);
        Sql.Bind(cmd, "$n", p.Attempts);
        Sql.Bind(cmd, "$targets", (object?)p.Targets ?? DBNull.Value);
        Sql.Bind(cmd, "$detail", (object?)p.Detail ?? DBNull.Value);
        Sql.Bind(cmd, "$updated", p.UpdatedMs);
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
            var cmd = w.Command("""
                UPDATE push_outbox SET state = $state, due_at = $due, attempts = $n, targets = $targets, detail = $detail, updated_at = $updated
                WHERE user_id = $u AND conversation_id = $c AND seq = $s
                """);
            Sql.Bind(cmd, "$u", userId);
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
                var cmd = w.Command("""
                    DELETE FROM push_outbox WHERE (user_id, conversation_id, seq) IN (
                        SELECT user_id, conversation_id, seq FROM push_outbox WHERE state <> 0 AND updated_at < $b LIMIT 1000)
                    """);
                Sql.Bind(cmd, "$b", beforeMs);
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
