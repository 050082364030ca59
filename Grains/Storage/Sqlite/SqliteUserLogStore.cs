using Microsoft.Data.Sqlite;
using static Messenger.Grains.Storage.StoreTime;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// <see cref="IUserLogStore"/> on the <c>user_updates</c>, <c>user_conversations</c> and
/// <c>user_state</c> tables of a <see cref="SqliteDatabase"/> (and the ids' integer keys in <c>user_keys</c> and
/// <c>conversation_keys</c>, the database's own). No statement here reads a conversation's tables, so the user logs
/// may live in another database than the conversations.
/// </summary>
public sealed class SqliteUserLogStore(SqliteDatabase database) : IUserLogStore
{
    private const int SqliteConstraint = 19;

    /// <inheritdoc />
    public Task AppendUpdatesAsync(string userId, IReadOnlyList<UpdatePointer> updates, IReadOnlyList<UserConversation> entries,
        IReadOnlyList<PushRecord>? pushes = null) => database.Writer.WriteAsync((userId, updates, entries, pushes), static (w, write) =>
    {
        var (userId, updates, entries, pushes) = write;
        SaveEntries(w, userId, entries);
        if (pushes is not null) SqlitePushOutboxStore.Insert(w, userId, pushes);
        for (var i = 0; i < updates.Count; i++) // (a foreach over the interface would box the list's enumerator)
        {
            var update = updates[i];
            var cmd = update.Receipts is null
                ? w.Statement("INSERT INTO user_updates (user_key, user_seq, kind, conversation_key, seq, from_self) VALUES ($u, $q, $k, $c, $s, $f)")
                : w.Statement("INSERT INTO user_updates (user_key, user_seq, kind, conversation_key, seq, from_self, receipts) VALUES ($u, $q, $k, $c, $s, $f, $r)");
            if (update.Receipts is not null) cmd.Bind("$r", ReceiptsColumn.Encode(update.Receipts)!);
            cmd.Bind("$u", w.UserKey(userId));
            cmd.Bind("$q", update.UserSeq);
            cmd.Bind("$k", (int)update.Kind);
            cmd.Bind("$c", w.ConversationKey(update.ConversationId));
            cmd.Bind("$s", update.Seq);
            cmd.Bind("$f", update.FromSelf);
            try
            {
                cmd.ExecuteNonQuery();
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteConstraint)
            {
                throw new StoreConflictException($"User {userId} update {update.UserSeq} conflicts: {ex.Message}");
            }
        }
        return 0;
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<UpdatePointer>> ReadUpdatesAsync(string userId, long afterUserSeq, int limit)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT p.user_seq, p.kind, c.conversation_id, p.seq, p.from_self, p.receipts
            FROM user_updates p JOIN conversation_keys c ON c.conversation_key = p.conversation_key
            WHERE p.user_key = {SqliteIdKeys.UserKeyOfParameter} AND p.user_seq > $a ORDER BY p.user_seq LIMIT $l
            """;
        Sql.Bind(cmd, "$u", userId);
        Sql.Bind(cmd, "$a", afterUserSeq);
        Sql.Bind(cmd, "$l", limit);
        var updates = new List<UpdatePointer>(Math.Min(limit, 1024));
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            updates.Add(new UpdatePointer(r.GetInt64(0), (UpdateKind)r.GetInt32(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4) != 0,
                r.IsDBNull(5) ? null : ReceiptsColumn.Decode(r.GetString(5))));
        }
        return updates;
    }

    /// <inheritdoc />
    public async Task<long> FindUserSeqAsync(string userId, string conversationId, long seq)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        // No index by message: walk the user's log back from its end, where retried sends are found.
        cmd.CommandText = $"""
            SELECT user_seq FROM user_updates
            WHERE user_key = {SqliteIdKeys.UserKeyOfParameter} AND conversation_key = {SqliteIdKeys.ConversationKeyOfParameter} AND kind = 1 AND seq = $s
            ORDER BY user_seq DESC LIMIT 1
            """;
        Sql.Bind(cmd, "$u", userId);
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$s", seq);
        return await cmd.ExecuteScalarAsync() is long userSeq ? userSeq : 0;
    }

    /// <inheritdoc />
    public async Task<UserRecord> LoadUserAsync(string userId)
    {
        await using var connection = await database.OpenReaderAsync();
        long lastUserSeq;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = $"SELECT COALESCE(MAX(user_seq), 0) FROM user_updates WHERE user_key = {SqliteIdKeys.UserKeyOfParameter}";
            Sql.Bind(cmd, "$u", userId);
            lastUserSeq = (long)(await cmd.ExecuteScalarAsync())!;
        }
        long checkpoint = 0;
        DateTimeOffset? lastSeen = null;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT checkpoint_user_seq, last_seen FROM user_state WHERE user_id = $u";
            Sql.Bind(cmd, "$u", userId);
            await using var r = await cmd.ExecuteReaderAsync();
            if (await r.ReadAsync())
            {
                checkpoint = r.GetInt64(0);
                lastSeen = r.IsDBNull(1) ? null : FromMs(r.GetInt64(1));
            }
        }
        var entries = new List<UserConversation>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = $"SELECT {UserConversationRows.Columns} FROM user_conversations WHERE user_id = $u";
            Sql.Bind(cmd, "$u", userId);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) entries.Add(UserConversationRows.Read(r));
        }
        return new UserRecord(lastUserSeq, checkpoint, entries, lastSeen);
    }

    /// <inheritdoc />
    public Task SaveConversationsAsync(string userId, IReadOnlyList<UserConversation> entries, long checkpointUserSeq) =>
        database.Writer.WriteAsync(w =>
        {
            SaveEntries(w, userId, entries);
            if (checkpointUserSeq > 0)
            {
                var cmd = w.Statement("""
                    INSERT INTO user_state (user_id, checkpoint_user_seq) VALUES ($u, $q)
                    ON CONFLICT (user_id) DO UPDATE SET checkpoint_user_seq = MAX(checkpoint_user_seq, excluded.checkpoint_user_seq)
                    """);
                cmd.Bind("$u", userId);
                cmd.Bind("$q", checkpointUserSeq);
                cmd.ExecuteNonQuery();
            }
            return 0;
        });

    private static void SaveEntries(SqliteWriter w, string userId, IReadOnlyList<UserConversation> entries)
    {
        foreach (var entry in entries)
        {
            var cmd = w.Statement($"""
                INSERT INTO user_conversations (user_id, {UserConversationRows.Columns})
                VALUES ($u, $c, $k, $t, $m, $l, $r, $n, $mc, $left, $mu)
                ON CONFLICT (user_id, conversation_id) DO UPDATE SET
                    kind = excluded.kind, muted_until = excluded.muted_until,
                    members = CASE WHEN excluded.last_seq >= last_seq THEN excluded.members ELSE members END,
                    title = CASE WHEN excluded.last_seq >= last_seq THEN excluded.title ELSE title END,
                    member_count = CASE WHEN excluded.last_seq >= last_seq THEN excluded.member_count ELSE member_count END,
                    left_group = CASE WHEN excluded.last_seq >= last_seq THEN excluded.left_group ELSE left_group END,
                    last_seq = MAX(last_seq, excluded.last_seq), read_seq = MAX(read_seq, excluded.read_seq)
                """);
            var info = entry.Conversation;
            cmd.Bind("$u", userId);
            cmd.Bind("$c", info.ConversationId);
            cmd.Bind("$k", (int)info.Kind);
            cmd.Bind("$t", info.CreatedAt.ToUnixTimeMilliseconds());
            cmd.Bind("$m", UserConversationRows.JoinMembers(info.Members));
            cmd.Bind("$l", entry.LastSeq);
            cmd.Bind("$r", entry.ReadSeq);
            cmd.Bind("$n", info.Title);
            cmd.Bind("$mc", info.MemberCount);
            cmd.Bind("$left", entry.Left);
            cmd.Bind("$mu", entry.MutedUntilMs);
            cmd.ExecuteNonQuery();
        }
    }

    /// <inheritdoc />
    public Task SetLastSeenAsync(string userId, DateTimeOffset lastSeen) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("""
            INSERT INTO user_state (user_id, last_seen) VALUES ($u, $t)
            ON CONFLICT (user_id) DO UPDATE SET last_seen = excluded.last_seen
            """);
        cmd.Bind("$t", lastSeen.ToUnixTimeMilliseconds());
        cmd.Bind("$u", userId);
        return cmd.ExecuteNonQuery();
    });

    /// <inheritdoc />
    public Task RecordSeenAsync(IReadOnlyList<string> userIds, DateTimeOffset seenAt) => userIds.Count == 0 ? Task.CompletedTask : database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("UPDATE user_state SET last_seen = $t WHERE user_id = $u AND last_seen IS NOT NULL");
        var updated = 0;
        foreach (var userId in userIds)
        {
            // Each run clears the statement's parameters.
            cmd.Bind("$t", seenAt.ToUnixTimeMilliseconds());
            cmd.Bind("$u", userId);
            updated += cmd.ExecuteNonQuery();
        }
        return updated;
    });

    /// <inheritdoc />
    public Task DeleteUserAsync(string userId) => database.Writer.WriteAsync(w =>
    {
        // The user's key stays (no key is ever deleted): where this database holds conversations too, their messages
        // there are keyed by it.
        var log = w.Statement($"DELETE FROM user_updates WHERE user_key = {SqliteIdKeys.UserKeyOfParameter}");
        log.Bind("$u", userId);
        log.ExecuteNonQuery();
        foreach (var table in (string[])["user_conversations", "user_state", "push_outbox"])
        {
            var cmd = w.Statement($"DELETE FROM {table} WHERE user_id = $u");
            cmd.Bind("$u", userId);
            cmd.ExecuteNonQuery();
        }
        return 0;
    });
}
