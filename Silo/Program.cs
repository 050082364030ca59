using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Messenger.Silo;
using Orleans.Dashboard;
using OpenTelemetry.Metrics;

// A silo of a cluster: grains over PostgreSQL storage, membership in PostgreSQL.
//   dotnet run --project Silo                 run a silo (migrates the databases first)
//   dotnet run --project Silo -- migrate      migrate the membership and storage databases, then exit
var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
if (command is not null && command != "migrate")
{
    Console.Error.WriteLine($"unknown command '{command}': the only command is 'migrate' (or none, to run a silo)");
    return 2;
}
var settings = command is null ? args : args[1..];

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = settings, ContentRootPath = AppContext.BaseDirectory });
var (cluster, dashboard) = SiloSettings.Read(builder.Configuration);

if (command == "migrate")
{
    await ClusterHosting.MigrateAsync(cluster);
    await using var storage = MessengerSiloExtensions.OpenConfiguredStorage(builder.Configuration);
    foreach (var schema in storage.Schemas) await schema.MigrateAsync();
    Console.WriteLine("migrated: the membership database and every storage database are up to date");
    return 0;
}

// The membership tables must exist before the clustering provider reads them.
await ClusterHosting.MigrateAsync(cluster);
builder.UseOrleans(silo =>
{
    silo.UseMessengerCluster(cluster).AddMessenger(builder.Configuration);
    if (cluster.Kubernetes) silo.UseKubernetesHosting();
    if (dashboard.Enabled) silo.AddDashboard();
});
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMessengerMetrics()
    .AddPrometheusExporter());
builder.Services.AddMemoryTrimming(builder.Configuration);
var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
// Ready: this silo is an active member of the cluster and reaches every storage database.
app.MapGet("/readyz", async (IClusterMembershipService membership, ILocalSiloDetails local, MessengerStorage storage, CancellationToken ct) =>
{
    if (membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress) != SiloStatus.Active) return Results.Text("not an active member of the cluster", statusCode: 503);
    try
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        foreach (var schema in storage.Schemas) await schema.PingAsync(timeout.Token);
    }
    catch (Exception ex) when (ex is System.Data.Common.DbException or OperationCanceledException or TimeoutException)
    {
        return Results.Text($"storage unreachable: {ex.Message}", statusCode: 503);
    }
    return Results.Text("ready");
});
app.MapPrometheusScrapingEndpoint(); // GET /metrics, Prometheus text format
if (dashboard.Enabled) app.MapOrleansDashboard(dashboard.Path);
await app.RunAsync();
return 0;

/// <summary>Reads and checks what a silo needs before anything starts.</summary>
internal static class SiloSettings
{
    public static (MessengerClusterOptions Cluster, SiloDashboardOptions Dashboard) Read(IConfiguration configuration)
    {
        var cluster = MessengerClusterOptions.From(configuration);
        var storage = StorageOptions.From(configuration);
        try
        {
            var dashboard = SiloDashboardOptions.From(configuration);
            cluster.ValidateForSilo();
            if (!storage.IsPostgres)
            {
                throw new InvalidOperationException(
                    $"{StorageOptions.SectionName}:Provider must be '{StorageOptions.PostgresProvider}' for a silo of a cluster (is '{storage.Provider}'): every silo must see the same data.");
            }
            storage.Validate();
            return (cluster, dashboard);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Environment.Exit(2);
            throw;
        }
    }
}
