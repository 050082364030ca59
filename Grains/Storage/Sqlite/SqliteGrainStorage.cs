using System.Globalization;
using Orleans.Storage;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// Orleans grain storage (<c>IPersistentState</c>) on the <c>grain_state</c> table of a
/// <see cref="SqliteDatabase"/>, for standalone mode; cluster mode uses Orleans' ADO.NET provider on
/// PostgreSQL, with the same behaviour (one test suite runs against both). The ETag is a version that
/// every write or clear moves on; a write or clear against any other version than the stored one
/// (another activation wrote first) throws <see cref="InconsistentStateException"/> and changes nothing.
/// Writes go through the database's batching writer, durable when they return.
/// </summary>
public sealed class SqliteGrainStorage(SqliteDatabase database, IGrainStorageSerializer serializer) : IGrainStorage
{
    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT version, payload FROM grain_state WHERE state_name = $s AND grain_id = $g";
        Sql.Bind(cmd, "$s", stateName);
        Sql.Bind(cmd, "$g", grainId.ToString());
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync())
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.ETag = r.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        grainState.State = r.IsDBNull(1) ? Activator.CreateInstance<T>() : serializer.Deserialize<T>(new BinaryData((byte[])r.GetValue(1)));
        grainState.RecordExists = !r.IsDBNull(1);
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State).ToArray();
        var version = await WriteAsync(stateName, grainId, grainState.ETag, payload, "WriteState");
        grainState.ETag = version;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    /// <remarks>The row stays, without a payload, so its version keeps moving on; a null ETag clears whatever is stored.</remarks>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        grainState.ETag = grainState.ETag is null
            ? await ClearUnconditionallyAsync(stateName, grainId)
            : await WriteAsync(stateName, grainId, grainState.ETag, payload: null, "ClearState");
        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
    }

    private Task<string?> ClearUnconditionallyAsync(string stateName, GrainId grainId) =>
        database.Writer.WriteAsync(w =>
        {
            var cmd = w.Statement("UPDATE grain_state SET version = version + 1, payload = NULL WHERE state_name = $s AND grain_id = $g RETURNING version");
            cmd.Bind("$s", stateName);
            cmd.Bind("$g", grainId.ToString());
            return cmd.ExecuteScalar() is long version ? version.ToString(CultureInfo.InvariantCulture) : null;
        });

    // Inserts version 1 when the grain saw no row (etag null), else moves the version on from the one
    // the grain holds; anything else is a conflict.
    private Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, byte[]? payload, string operation) =>
        database.Writer.WriteAsync(w =>
        {
            var id = grainId.ToString();
            var expected = etag is null ? (long?)null : long.Parse(etag, CultureInfo.InvariantCulture);
            var cmd = expected is null
                ? w.Statement("INSERT INTO grain_state (state_name, grain_id, version, payload) VALUES ($s, $g, 1, $p) ON CONFLICT DO NOTHING RETURNING version")
                : w.Statement("UPDATE grain_state SET version = version + 1, payload = $p WHERE state_name = $s AND grain_id = $g AND version = $v RETURNING version");
            cmd.Bind("$s", stateName);
            cmd.Bind("$g", id);
            cmd.Bind("$p", payload);
            if (expected is not null) cmd.Bind("$v", expected.Value);
            if (cmd.ExecuteScalar() is long version) return version.ToString(CultureInfo.InvariantCulture);
            throw new InconsistentStateException(
                $"Version conflict ({operation}): state {stateName} of {id} was written by another activation (the grain held version {etag ?? "none"}).",
                null, etag);
        });
}
