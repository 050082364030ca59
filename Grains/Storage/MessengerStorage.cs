using Orleans.Storage;

namespace Messenger.Grains.Storage;

/// <summary>
/// The stores the grains use, from one backend chosen by configuration (<c>Storage:Provider</c>),
/// and the databases whose schema the silo migrates at start-up. Disposing it closes the databases.
/// </summary>
/// <param name="Accounts">Accounts and usernames.</param>
/// <param name="Conversations">Conversation metadata, logs and fan-out marks.</param>
/// <param name="UserLogs">Users' update logs, conversation lists and last seen.</param>
/// <param name="Pushes">Users' push outboxes (with their update logs).</param>
/// <param name="Schemas">Every database behind the three stores, each migrated once.</param>
/// <param name="Databases">What to dispose when the silo stops.</param>
/// <param name="OrleansTables">
/// Where Orleans' own ADO.NET providers (grain state, reminders) find their tables and named queries in
/// this storage, which its migrations create; null for a backend that brings its own
/// (<paramref name="GrainStorage"/> and <paramref name="Reminders"/>).
/// </param>
/// <param name="GrainStorage">Makes the backend's own grain storage from the silo's grain state serializer.</param>
/// <param name="Reminders">The backend's own reminder table.</param>
public sealed record MessengerStorage(
    IAccountStore Accounts,
    IConversationStore Conversations,
    IUserLogStore UserLogs,
    IPushOutboxStore Pushes,
    IReadOnlyList<IStoreSchema> Schemas,
    IReadOnlyList<IAsyncDisposable> Databases,
    AdoNetTables? OrleansTables = null,
    Func<IGrainStorageSerializer, IGrainStorage>? GrainStorage = null,
    IReminderTable? Reminders = null) : IAsyncDisposable
{
    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var database in Databases) await database.DisposeAsync();
    }
}

/// <summary>An ADO.NET database as Orleans' providers name one: the provider's invariant and a connection string.</summary>
public sealed record AdoNetTables(string Invariant, string ConnectionString)
{
    /// <summary>Npgsql's invariant name.</summary>
    public const string Npgsql = "Npgsql";
}
