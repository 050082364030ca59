using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// Orleans' reminder table on the <c>reminders</c> table of a <see cref="SqliteDatabase"/>, for
/// standalone mode; a cluster uses Orleans' ADO.NET provider on PostgreSQL, with the same behaviour
/// (one test suite runs against both). The ETag is a version every upsert moves on; a removal at any
/// other version than the stored one is refused. Writes go through the database's batching writer.
/// </summary>
public sealed class SqliteReminderTable(SqliteDatabase database) : IReminderTable
{
    private const string Columns = "grain_id, name, start_at, period_ms, version";

    public Task Init() => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public async Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken) =>
        new(await QueryAsync($"SELECT {Columns} FROM reminders WHERE grain_id = $g", cmd => Sql.Bind(cmd, "$g", grainId.ToString()), cancellationToken));

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    /// <summary>The reminders whose grain hash is in the ring range (begin, end], which wraps when begin is not below end.</summary>
    public async Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken) =>
        new(await QueryAsync(begin < end
                ? $"SELECT {Columns} FROM reminders WHERE grain_hash > $b AND grain_hash <= $e"
                : $"SELECT {Columns} FROM reminders WHERE grain_hash > $b OR grain_hash <= $e",
            cmd =>
            {
                Sql.Bind(cmd, "$b", (long)begin);
                Sql.Bind(cmd, "$e", (long)end);
            }, cancellationToken));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT {Columns} FROM reminders WHERE grain_id = $g AND name = $n", cmd =>
        {
            Sql.Bind(cmd, "$g", grainId.ToString());
            Sql.Bind(cmd, "$n", reminderName);
        }, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken) => database.Writer.WriteAsync<string?>(w =>
    {
        var cmd = w.Statement("""
            INSERT INTO reminders (grain_id, name, grain_hash, start_at, period_ms, version) VALUES ($g, $n, $h, $s, $p, 0)
            ON CONFLICT (grain_id, name) DO UPDATE SET
                grain_hash = excluded.grain_hash, start_at = excluded.start_at, period_ms = excluded.period_ms, version = version + 1
            RETURNING version
            """);
        cmd.Bind("$g", entry.GrainId.ToString());
        cmd.Bind("$n", entry.ReminderName);
        cmd.Bind("$h", (long)entry.GrainId.GetUniformHashCode());
        cmd.Bind("$s", DateTime.SpecifyKind(entry.StartAt, DateTimeKind.Utc).Ticks);
        cmd.Bind("$p", (long)entry.Period.TotalMilliseconds);
        return ((long)cmd.ExecuteScalar()!).ToString(CultureInfo.InvariantCulture);
    });

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken) =>
        database.Writer.WriteAsync(w =>
        {
            if (!long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)) return false;
            var cmd = w.Statement("DELETE FROM reminders WHERE grain_id = $g AND name = $n AND version = $v");
            cmd.Bind("$g", grainId.ToString());
            cmd.Bind("$n", reminderName);
            cmd.Bind("$v", version);
            return cmd.ExecuteNonQuery() == 1;
        });

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public Task TestOnlyClearTable(CancellationToken cancellationToken) => database.Writer.WriteAsync(w => w.Statement("DELETE FROM reminders").ExecuteNonQuery());

    private async Task<List<ReminderEntry>> QueryAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        bind(cmd);
        var entries = new List<ReminderEntry>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(r.GetString(0)),
                ReminderName = r.GetString(1),
                StartAt = new DateTime(r.GetInt64(2), DateTimeKind.Utc),
                Period = TimeSpan.FromMilliseconds(r.GetInt64(3)),
                ETag = r.GetInt64(4).ToString(CultureInfo.InvariantCulture),
            });
        }
        return entries;
    }
}
