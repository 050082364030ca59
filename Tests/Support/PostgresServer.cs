using System.Diagnostics;
using System.Globalization;
using Messenger.Testing;
using Npgsql;

namespace Messenger.Tests.Support;

/// <summary>
/// A real PostgreSQL server for this test run: a throwaway instance of the project's own
/// (<c>scripts/postgres.sh</c>: own data directory, own port on loopback), started once on first use
/// and stopped when the test process exits. Instances left behind by test runs that were killed are
/// stopped and deleted by the next run. No test skips for want of PostgreSQL: without its binaries
/// the script fails and says how to install them (<c>.ci/run</c> does).
/// </summary>
public sealed class PostgresServer
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "messenger-pg-tests");
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private PostgresServer(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    /// <summary>The instance's directory (data, socket, log).</summary>
    public string Directory { get; }

    /// <summary>Its port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The run's server, started on first call.</summary>
    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A connection string to <paramref name="database"/> as the superuser, optionally in one schema.</summary>
    public string ConnectionString(string database, string? schema = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Timeout = 30,
        };
        if (schema is not null) builder.SearchPath = schema;
        return builder.ConnectionString;
    }

    /// <summary>Runs one statement in <paramref name="database"/>.</summary>
    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row of one query in <paramref name="database"/>.</summary>
    public async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Creates a database unless it exists.</summary>
    public async Task EnsureDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        if (await exists.ExecuteScalarAsync() is not null) return;
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        try
        {
            await create.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex) when (ex.SqlState is "42P04" or "23505")
        {
            // Created meanwhile by another test.
        }
    }

    private static async Task<PostgresServer> StartAsync()
    {
        System.IO.Directory.CreateDirectory(Root);
        ReapAbandonedInstances();
        var directory = Path.Combine(Root, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        for (var attempt = 1; ; attempt++)
        {
            var port = ServerProbe.FreePort();
            // fsync off: a test run needs no protection from the machine losing power, and a kill -9
            // of PostgreSQL (which tests may do) loses nothing committed without it.
            var (code, output) = await RunScriptAsync("start", directory, port.ToString(CultureInfo.InvariantCulture), "fsync=off");
            if (code == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAndDelete(directory);
                return new PostgresServer(directory, port);
            }
            if (attempt == 3) throw new InvalidOperationException($"scripts/postgres.sh start failed ({code}):\n{output}");
        }
    }

    private static void ReapAbandonedInstances()
    {
        foreach (var directory in System.IO.Directory.GetDirectories(Root))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (pid == Environment.ProcessId || IsAlive(pid)) continue;
            StopAndDelete(directory, immediate: true);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void StopAndDelete(string directory, bool immediate = false)
    {
        RunScriptAsync(immediate ? "kill" : "stop", directory).GetAwaiter().GetResult();
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Reaped by a later run.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static Task<(int Code, string Output)> RunScriptAsync(params string[] args) => Repository.RunScriptAsync("postgres.sh", args);
}
