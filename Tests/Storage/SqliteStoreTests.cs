using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>The storage contract against the SQLite backend as the product runs it: one database file per test.</summary>
public sealed class SqliteStoreTests : StoreContract
{
    private readonly string _directory = SqliteFiles.NewDirectory();

    protected override MessengerStorage OpenStorage() => SqliteStorage.Open(Path.Combine(_directory, SqliteStorage.FileName));

    protected override Task RecordSchemaVersionAsync(int version) => SqliteFiles.RecordSchemaVersionAsync(version, Path.Combine(_directory, SqliteStorage.FileName));

    protected override Task DeleteDataAsync() => SqliteFiles.DeleteDirectoryAsync(_directory);
}

/// <summary>
/// The storage contract with the user logs in another database file than accounts and conversations:
/// a store that queried across the two (a join of a user's log with the messages, say) would find
/// the other half empty here and fail.
/// </summary>
public sealed class SplitSqliteStoreTests : StoreContract
{
    private readonly string _directory = SqliteFiles.NewDirectory();

    protected override MessengerStorage OpenStorage() =>
        SqliteStorage.OpenSplit(Path.Combine(_directory, SqliteStorage.FileName), Path.Combine(_directory, "user-logs.db"));

    protected override Task RecordSchemaVersionAsync(int version) =>
        SqliteFiles.RecordSchemaVersionAsync(version, Path.Combine(_directory, SqliteStorage.FileName), Path.Combine(_directory, "user-logs.db"));

    protected override Task DeleteDataAsync() => SqliteFiles.DeleteDirectoryAsync(_directory);
}

/// <summary>A test class with a database file of its own in a fresh directory, deleted after each test.</summary>
public abstract class SqliteFileTest : IAsyncLifetime
{
    protected string Directory { get; } = SqliteFiles.NewDirectory();

    protected string DatabasePath => Path.Combine(Directory, SqliteStorage.FileName);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => SqliteFiles.DeleteDirectoryAsync(Directory);
}

internal static class SqliteFiles
{
    /// <summary>A new directory path for one test's database files (created when the first file is opened).</summary>
    public static string NewDirectory() => Path.Combine(Path.GetTempPath(), "messenger-store-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Closes the pooled connections to the files in <paramref name="directory"/> and deletes it, if it exists.</summary>
    public static Task DeleteDirectoryAsync(string directory)
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    public static async Task RecordSchemaVersionAsync(int version, params string[] files)
    {
        foreach (var file in files) await ExecuteAsync(file, $"INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, 0)");
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) on <paramref name="file"/>, beside the store (a connection of its own).</summary>
    public static async Task ExecuteAsync(string file, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=false");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }
}
