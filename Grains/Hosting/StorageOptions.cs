namespace Messenger.Grains.Hosting;

/// <summary>Where durable data lives. Section <c>Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Storage";

    /// <summary>Directory of the SQLite database (and, in standalone mode, the token signing key).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(DataDirectory)} must be set.");
        }
    }
}
