namespace Messenger.Grains.Storage.Sqlite;

/// <summary>Applies the embedded <c>Migrations/NNNN_*.sql</c> files in order, each once.</summary>
internal static class SqliteMigrations
{
    private static readonly MigrationScripts Scripts = MigrationScripts.For(typeof(SqliteMigrations));

    public static void Apply(SqliteWriter writer, string database)
    {
        writer.ExecuteScript("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
        var current = (long)writer.Statement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").ExecuteScalar()!;
        foreach (var (version, sql) in Scripts.After(current, database))
        {
            writer.ExecuteScript(sql);
            var record = writer.Statement("INSERT INTO schema_migrations (version, applied_at) VALUES ($v, $t)");
            record.Bind("$v", version);
            record.Bind("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.ExecuteNonQuery();
        }
    }
}
