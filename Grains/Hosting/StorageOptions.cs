namespace Messenger.Grains.Hosting;

/// <summary>Where and how durable data is kept. Section <c>Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Storage";

    /// <summary>The SQLite backend (standalone): one file under <see cref="DataDirectory"/>.</summary>
    public const string Sqlite = "Sqlite";

    /// <summary>The storage backend. Today only <c>Sqlite</c>.</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>Directory of the SQLite database (and, in standalone mode, the token signing key).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// For benchmarks only: every commit of the store takes this much longer, as on a disk whose flush
    /// is that slow. Zero (the default) in any real deployment.
    /// </summary>
    public TimeSpan SimulatedFlushLatency { get; set; } = TimeSpan.Zero;

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (!string.Equals(Provider, Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(Provider)} must be '{Sqlite}' (the only backend so far), is '{Provider}'.");
        }
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(DataDirectory)} must be set.");
        }
        if (SimulatedFlushLatency < TimeSpan.Zero || SimulatedFlushLatency > TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(SimulatedFlushLatency)} must be 00:00:00 to 00:00:01, is {SimulatedFlushLatency}.");
        }
    }
}
