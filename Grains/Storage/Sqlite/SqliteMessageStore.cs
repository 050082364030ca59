using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// <see cref="IMessageStore"/> on one SQLite file: WAL, <c>synchronous=FULL</c>, one batching
/// writer (<see cref="SqliteWriter"/>), pooled read connections.
/// </summary>
public sealed class SqliteMessageStore : IMessageStore, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SqliteWriter _writer;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public SqliteMessageStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writer = new SqliteWriter(_connectionString);
    }

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken = default) =>
        _writer.WriteAsync(w => { SqliteMigrations.Apply(w); return 0; });

    /// <inheritdoc />
    public Task<bool> CreateAccountAsync(AccountCredentials account) => _writer.WriteAsync(w =>
    {
        var cmd = w.Command("INSERT INTO accounts (user_id, username, password_hash, created_at) VALUES ($u, $n, $h, $t) ON CONFLICT DO NOTHING");
        Sql.Bind(cmd, "$u", account.Profile.UserId);
        Sql.Bind(cmd, "$n", account.Profile.Username);
        Sql.Bind(cmd, "$h", account.PasswordHash);
        Sql.Bind(cmd, "$t", account.Profile.CreatedAt.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery() == 1;
    });

    /// <inheritdoc />
    public Task<AccountCredentials?> FindAccountByUsernameAsync(string username) =>
        FindAccountWhereAsync("username = $k", username);

    /// <inheritdoc />
    public Task<AccountCredentials?> FindAccountAsync(string userId) =>
        FindAccountWhereAsync("user_id = $k", userId);

    private async Task<AccountCredentials?> FindAccountWhereAsync(string where, string key)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT user_id, username, password_hash, created_at FROM accounts WHERE {where}";
        Sql.Bind(cmd, "$k", key);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        return new AccountCredentials(new UserProfile(r.GetString(0), r.GetString(1), FromMs(r.GetInt64(3))), r.GetString(2));
    }

    /// <inheritdoc />
    public Task CreateConversationAsync(ConversationInfo conversation) => _writer.WriteAsync(w =>
    {
        var cmd = w.Command("INSERT INTO conversations (conversation_id, kind, created_at) VALUES ($c, $k, $t) ON CONFLICT DO NOTHING");
        Sql.Bind(cmd, "$c", conversation.ConversationId);
        Sql.Bind(cmd, "$k", (int)conversation.Kind);
        Sql.Bind(cmd, "$t", conversation.CreatedAt.ToUnixTimeMilliseconds());
        if (cmd.ExecuteNonQuery() == 0) return 0;
        foreach (var member in conversation.Members)
        {
            var m = w.Command("INSERT INTO conversation_members (conversation_id, user_id) VALUES ($c, $u) ON CONFLICT DO NOTHING");
            Sql.Bind(m, "$c", conversation.ConversationId);
            Sql.Bind(m, "$u", member);
            m.ExecuteNonQuery();
        }
        return 1;
    });

    /// <inheritdoc />
    public async Task<ConversationRecord?> GetConversationAsync(string conversationId)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT c.kind, c.created_at, c.last_seq, c.fanned_out_seq, m.user_id
            FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.conversation_id
            WHERE c.conversation_id = $c ORDER BY m.user_id
            """;
        Sql.Bind(cmd, "$c", conversationId);
        await using var r = await cmd.ExecuteReaderAsync();
        ConversationRecord? record = null;
        var members = new List<string>();
        while (await r.ReadAsync())
        {
            record ??= new ConversationRecord(
                new ConversationInfo(conversationId, (ConversationKind)r.GetInt32(0), members, FromMs(r.GetInt64(1))),
                r.GetInt64(2), r.GetInt64(3));
            if (!r.IsDBNull(4)) members.Add(r.GetString(4));
        }
        return record;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(string conversationId, long lastSeq, IReadOnlyList<NewMessage> messages) =>
        _writer.WriteAsync<IReadOnlyList<AppendResult>>(w =>
        {
            var check = w.Command("SELECT last_seq FROM conversations WHERE conversation_id = $c");
            Sql.Bind(check, "$c", conversationId);
            var stored = check.ExecuteScalar();
            if (stored is null) throw new InvalidOperationException($"Conversation {conversationId} does not exist.");
            if ((long)stored != lastSeq)
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
                var insert = w.Command("INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, text, sent_at) VALUES ($c, $s, $u, $m, $x, $t) "
                    + "ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING");
                Sql.Bind(insert, "$c", conversationId);
                Sql.Bind(insert, "$s", seq + 1);
                Sql.Bind(insert, "$u", message.SenderId);
                Sql.Bind(insert, "$m", message.ClientMsgId);
                Sql.Bind(insert, "$x", message.Text);
                Sql.Bind(insert, "$t", message.SentAt.ToUnixTimeMilliseconds());
                if (insert.ExecuteNonQuery() == 0)
                {
                    var existing = FindByClientMsgId(w, conversationId, message.SenderId, message.ClientMsgId)
                        ?? throw new InvalidOperationException("insert ignored but no original found");
                    results[i] = new AppendResult(existing, Duplicate: true);
                    continue;
                }
                seq++;
                results[i] = new AppendResult(
                    new ChatMessage(conversationId, seq, message.SenderId, message.ClientMsgId, message.Text, TruncateToMs(message.SentAt)),
                    Duplicate: false);
            }
            if (seq != lastSeq)
            {
                var update = w.Command("UPDATE conversations SET last_seq = $s WHERE conversation_id = $c");
                Sql.Bind(update, "$s", seq);
                Sql.Bind(update, "$c", conversationId);
                update.ExecuteNonQuery();
            }
            return results;
        });

    private static ChatMessage? FindByClientMsgId(SqliteWriter w, string conversationId, string senderId, string clientMsgId)
    {
        var cmd = w.Command("SELECT seq, text, sent_at FROM messages WHERE conversation_id = $c AND sender_id = $u AND client_msg_id = $m");
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$u", senderId);
        Sql.Bind(cmd, "$m", clientMsgId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new ChatMessage(conversationId, r.GetInt64(0), senderId, clientMsgId, r.GetString(1), FromMs(r.GetInt64(2))) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> ReadMessagesAsync(string conversationId, long cursor, HistoryDirection direction, int limit)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = direction == HistoryDirection.Before
            ? "SELECT seq, sender_id, client_msg_id, text, sent_at FROM messages WHERE conversation_id = $c AND seq < $s ORDER BY seq DESC LIMIT $l"
            : "SELECT seq, sender_id, client_msg_id, text, sent_at FROM messages WHERE conversation_id = $c AND seq > $s ORDER BY seq ASC LIMIT $l";
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$s", cursor);
        Sql.Bind(cmd, "$l", limit);
        var messages = new List<ChatMessage>(Math.Min(limit, 256));
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                messages.Add(new ChatMessage(conversationId, r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), FromMs(r.GetInt64(4))));
            }
        }
        if (direction == HistoryDirection.Before) messages.Reverse();
        return messages;
    }

    /// <inheritdoc />
    public Task SetFannedOutAsync(string conversationId, long seq) => _writer.WriteAsync(w =>
    {
        var cmd = w.Command("UPDATE conversations SET fanned_out_seq = $s WHERE conversation_id = $c AND fanned_out_seq < $s");
        Sql.Bind(cmd, "$s", seq);
        Sql.Bind(cmd, "$c", conversationId);
        return cmd.ExecuteNonQuery();
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(int limit)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT conversation_id FROM conversations WHERE fanned_out_seq < last_seq LIMIT $l";
        Sql.Bind(cmd, "$l", limit);
        var ids = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) ids.Add(r.GetString(0));
        return ids;
    }

    /// <inheritdoc />
    public Task AppendUserUpdatesAsync(string userId, IReadOnlyList<UserUpdate> updates, IReadOnlyList<UserConversation> changed) =>
        _writer.WriteAsync(w =>
        {
            foreach (var update in updates)
            {
                var cmd = w.Command("INSERT INTO user_updates (user_id, user_seq, kind, conversation_id, seq) VALUES ($u, $q, $k, $c, $s)");
                Sql.Bind(cmd, "$u", userId);
                Sql.Bind(cmd, "$q", update.UserSeq);
                Sql.Bind(cmd, "$k", (int)update.Kind);
                Sql.Bind(cmd, "$c", update.ConversationId);
                Sql.Bind(cmd, "$s", update.Seq);
                try
                {
                    cmd.ExecuteNonQuery();
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT
                {
                    throw new StoreConflictException($"User {userId} update {update.UserSeq} conflicts: {ex.Message}");
                }
            }
            foreach (var entry in changed)
            {
                var cmd = w.Command("""
                    INSERT INTO user_conversations (user_id, conversation_id, last_seq, read_seq) VALUES ($u, $c, $l, $r)
                    ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_seq = excluded.last_seq, read_seq = excluded.read_seq
                    """);
                Sql.Bind(cmd, "$u", userId);
                Sql.Bind(cmd, "$c", entry.Conversation.ConversationId);
                Sql.Bind(cmd, "$l", entry.LastSeq);
                Sql.Bind(cmd, "$r", entry.ReadSeq);
                cmd.ExecuteNonQuery();
            }
            return 0;
        });

    /// <inheritdoc />
    public async Task<IReadOnlyList<UserUpdate>> ReadUserUpdatesAsync(string userId, long afterUserSeq, int limit)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT u.user_seq, u.kind, u.conversation_id, u.seq, m.sender_id, m.client_msg_id, m.text, m.sent_at
            FROM user_updates u
            LEFT JOIN messages m ON u.kind = 1 AND m.conversation_id = u.conversation_id AND m.seq = u.seq
            WHERE u.user_id = $u AND u.user_seq > $a ORDER BY u.user_seq LIMIT $l
            """;
        Sql.Bind(cmd, "$u", userId);
        Sql.Bind(cmd, "$a", afterUserSeq);
        Sql.Bind(cmd, "$l", limit);
        var updates = new List<UserUpdate>(Math.Min(limit, 1024));
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            var conversationId = r.GetString(2);
            var seq = r.GetInt64(3);
            var message = r.IsDBNull(4) ? null
                : new ChatMessage(conversationId, seq, r.GetString(4), r.GetString(5), r.GetString(6), FromMs(r.GetInt64(7)));
            updates.Add(new UserUpdate(r.GetInt64(0), (UpdateKind)r.GetInt32(1), conversationId, seq, message));
        }
        return updates;
    }

    /// <inheritdoc />
    public async Task<UserRecord> LoadUserAsync(string userId)
    {
        await using var connection = await OpenReaderAsync();
        long lastUserSeq;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT COALESCE(MAX(user_seq), 0) FROM user_updates WHERE user_id = $u";
            Sql.Bind(cmd, "$u", userId);
            lastUserSeq = (long)(await cmd.ExecuteScalarAsync())!;
        }
        DateTimeOffset? lastSeen;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT last_seen FROM accounts WHERE user_id = $u";
            Sql.Bind(cmd, "$u", userId);
            lastSeen = await cmd.ExecuteScalarAsync() is long ms ? FromMs(ms) : null;
        }
        var entries = new List<UserConversation>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = """
                SELECT uc.conversation_id, uc.last_seq, uc.read_seq, c.kind, c.created_at,
                       m.sender_id, m.client_msg_id, m.text, m.sent_at,
                       (SELECT group_concat(user_id, ' ') FROM conversation_members cm WHERE cm.conversation_id = uc.conversation_id)
                FROM user_conversations uc
                JOIN conversations c ON c.conversation_id = uc.conversation_id
                LEFT JOIN messages m ON m.conversation_id = uc.conversation_id AND m.seq = uc.last_seq
                WHERE uc.user_id = $u
                """;
            Sql.Bind(cmd, "$u", userId);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var conversationId = r.GetString(0);
                var lastSeq = r.GetInt64(1);
                var members = r.IsDBNull(9) ? [] : r.GetString(9).Split(' ');
                Array.Sort(members, StringComparer.Ordinal);
                var info = new ConversationInfo(conversationId, (ConversationKind)r.GetInt32(3), members, FromMs(r.GetInt64(4)));
                var last = r.IsDBNull(5) ? null
                    : new ChatMessage(conversationId, lastSeq, r.GetString(5), r.GetString(6), r.GetString(7), FromMs(r.GetInt64(8)));
                entries.Add(new UserConversation(info, lastSeq, r.GetInt64(2), last));
            }
        }
        return new UserRecord(lastUserSeq, entries, lastSeen);
    }

    /// <inheritdoc />
    public async Task<long> FindUserSeqAsync(string userId, string conversationId, long seq)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT user_seq FROM user_updates WHERE user_id = $u AND conversation_id = $c AND kind = 1 AND seq = $s";
        Sql.Bind(cmd, "$u", userId);
        Sql.Bind(cmd, "$c", conversationId);
        Sql.Bind(cmd, "$s", seq);
        return await cmd.ExecuteScalarAsync() is long userSeq ? userSeq : 0;
    }

    /// <inheritdoc />
    public Task SetLastSeenAsync(string userId, DateTimeOffset lastSeen) => _writer.WriteAsync(w =>
    {
        var cmd = w.Command("UPDATE accounts SET last_seen = $t WHERE user_id = $u");
        Sql.Bind(cmd, "$t", lastSeen.ToUnixTimeMilliseconds());
        Sql.Bind(cmd, "$u", userId);
        return cmd.ExecuteNonQuery();
    });

    private async Task<SqliteConnection> OpenReaderAsync()
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset TruncateToMs(DateTimeOffset t) => FromMs(t.ToUnixTimeMilliseconds());

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
