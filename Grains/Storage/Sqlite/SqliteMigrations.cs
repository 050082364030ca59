using System.Reflection;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>Applies the embedded <c>Migrations/NNNN_*.sql</c> files in order, each once.</summary>
internal static class SqliteMigrations
{
    public static void Apply(SqliteWriter writer)
    {
        writer.Command("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)").ExecuteNonQuery();
        var current = (long)writer.Command("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").ExecuteScalar()!;
        var assembly = typeof(SqliteMigrations).Assembly;
        var prefix = typeof(SqliteMigrations).Namespace + ".Migrations.";
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Name: n, Version: int.Parse(n.AsSpan(prefix.Length, 4), provider: System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Version);
        foreach (var (name, version) in scripts)
        {
            if (version <= current) continue;
            writer.Command(Read(assembly, name)).ExecuteNonQuery();
            var record = writer.Command("INSERT INTO schema_migrations (version, applied_at) VALUES ($v, $t)");
            Sql.Bind(record, "$v", version);
            Sql.Bind(record, "$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.ExecuteNonQuery();
        }
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
