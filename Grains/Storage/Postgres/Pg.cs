using Npgsql;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>Small helpers over Npgsql: typed positional parameters, and what a unique violation means here.</summary>
internal static class Pg
{
    /// <summary>PostgreSQL's SQLSTATE for a unique or primary-key violation.</summary>
    private const string UniqueViolation = "23505";

    /// <summary>Adds the next positional parameter (<c>$1</c>, <c>$2</c>, …) with its CLR type.</summary>
    public static NpgsqlParameterCollection With<T>(this NpgsqlParameterCollection parameters, T value)
    {
        parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return parameters;
    }

    /// <summary>True when a statement failed because a key it wrote was already taken.</summary>
    public static bool IsUniqueViolation(this PostgresException ex) => ex.SqlState == UniqueViolation;

    /// <summary>A command on a pooled connection of the database, which it returns when disposed.</summary>
    public static NpgsqlCommand Command(this PostgresDatabase database, string sql) => database.DataSource.CreateCommand(sql);

    /// <summary>A batch (one round trip, one implicit transaction) on a pooled connection of the database.</summary>
    public static NpgsqlBatch Batch(this PostgresDatabase database) => database.DataSource.CreateBatch();

    /// <summary>Appends a statement to a batch; returns its parameters.</summary>
    public static NpgsqlParameterCollection Add(this NpgsqlBatch batch, string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        batch.BatchCommands.Add(command);
        return command.Parameters;
    }
}
