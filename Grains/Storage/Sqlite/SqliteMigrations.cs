namespace Messenger.Grains.Storage.Sqlite;

/// <summary>Applies the embedded <c>Migrations/NNNN_*.sql</c> files in order, each once.</summary>
internal static class SqliteMigrations
{
    private static readonly MigrationScripts Scripts = MigrationScripts.For(typeof(SqliteMigrations));

    public static void Apply(SqliteWriter writer, string database)
    {
        writer.Command("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)").ExecuteNonQuery();
        var current = (long)writer.Command("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").ExecuteScalar()!;
        foreach (var (version, sql) in Scripts.After(current, database))
        {
            writer.Command(sql).ExecuteNonQuery();
            var record = writer.Command("INSERT INTO schema_migrations (version, applied_at) VALUES ($v, $t)");
            Sql.Bind(record, "$v", version);
            Sql.Bind(record, "$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.ExecuteNonQuery();
        }
    }
}
