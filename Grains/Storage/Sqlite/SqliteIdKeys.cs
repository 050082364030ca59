namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// The small integers a database keys its busiest rows by instead of ids as text (<c>conversation_keys</c>,
/// <c>user_keys</c>), as the writer finds or gives them: a number once given stays the id's for good. The writer
/// remembers the numbers it used, so a message costs no lookup for ids it has seen; it forgets them all whenever a
/// transaction (or a savepoint) rolls back, since a number given inside it is taken back with it. For the writer's
/// thread only.
/// </summary>
internal sealed class SqliteIdKeys
{
    /// <summary>For a reader's query: the key of the user named by parameter <c>$u</c> (NULL when it has none).</summary>
    public const string UserKeyOfParameter = "(SELECT user_key FROM user_keys WHERE user_id = $u)";

    /// <summary>For a reader's query: the key of the conversation named by parameter <c>$c</c> (NULL when it has none).</summary>
    public const string ConversationKeyOfParameter = "(SELECT conversation_key FROM conversation_keys WHERE conversation_id = $c)";

    // Enough for every user and conversation active at once on one machine; past it the writer starts over.
    private const int MaxRemembered = 100_000;

    private readonly Dictionary<string, long> _known = new(StringComparer.Ordinal);
    private readonly string _find;
    private readonly string _add;

    private SqliteIdKeys(string table, string keyColumn, string idColumn)
    {
        _find = $"SELECT {keyColumn} FROM {table} WHERE {idColumn} = $i";
        _add = $"INSERT INTO {table} ({idColumn}) VALUES ($i) RETURNING {keyColumn}";
    }

    public static SqliteIdKeys Conversations() => new("conversation_keys", "conversation_key", "conversation_id");

    public static SqliteIdKeys Users() => new("user_keys", "user_key", "user_id");

    /// <summary>The key of <paramref name="id"/>, given now if it has none.</summary>
    public long Of(SqliteWriter writer, string id)
    {
        if (_known.TryGetValue(id, out var key)) return key;
        var find = writer.Statement(_find);
        find.Bind("$i", id);
        var found = find.ExecuteScalar();
        if (found is null)
        {
            var add = writer.Statement(_add);
            add.Bind("$i", id);
            found = add.ExecuteScalar();
        }
        key = found!.Value;
        if (_known.Count >= MaxRemembered) _known.Clear();
        _known.Add(id, key);
        return key;
    }

    /// <summary>Forgets every number: a rollback may have taken some back.</summary>
    public void Forget() => _known.Clear();
}
