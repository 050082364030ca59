namespace Messenger.Grains.Storage;

/// <summary>A database of a storage backend, whose schema is brought up to date before any grain runs.</summary>
public interface IStoreSchema
{
    /// <summary>Applies the backend's versioned migrations that are not applied yet. Idempotent.</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>Answers one trivial query; throws when the database cannot be reached (readiness checks).</summary>
    Task PingAsync(CancellationToken cancellationToken = default);
}
