namespace Messenger.Silo;

/// <summary>The Orleans Dashboard on a silo's HTTP port. Section <c>Dashboard</c>; off by default.</summary>
public sealed class SiloDashboardOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Dashboard";

    /// <summary>Serve the dashboard (grains, calls, silos, reminders). It has no login of its own: expose it only inside the cluster.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where it is served on the silo's HTTP port.</summary>
    public string Path { get; set; } = "/dashboard";

    /// <summary>The <c>Dashboard</c> section; the message of a bad value names the setting.</summary>
    public static SiloDashboardOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<SiloDashboardOptions>() ?? new SiloDashboardOptions();
        if (!options.Path.StartsWith('/') || options.Path.Length < 2 || options.Path.EndsWith('/'))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(Path)} must start with '/' and not end with one (e.g. /dashboard), is '{options.Path}'.");
        }
        return options;
    }
}
