using System.Net;
using Microsoft.Extensions.Configuration;

namespace Messenger.Grains.Hosting;

/// <summary>
/// How a process takes part in a cluster: silos (the <c>Silo</c> project) and gateways in client mode
/// find each other through a membership table in PostgreSQL. Section <c>Cluster</c>.
/// </summary>
public sealed class MessengerClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Cluster";

    /// <summary>A gateway with a silo of its own inside (the default; one process, nothing to set up).</summary>
    public const string StandaloneMode = "standalone";

    /// <summary>A gateway as an Orleans client of a cluster of silos: no silo inside, no state of its own.</summary>
    public const string ClientMode = "client";

    /// <summary>For a gateway: <c>standalone</c> (default) or <c>client</c>. Silos ignore it.</summary>
    public string Mode { get; set; } = StandaloneMode;

    /// <summary>The cluster's id: silos and gateways with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "messenger";

    /// <summary>The service's id, stable across deployments of the same service.</summary>
    public string ServiceId { get; set; } = "messenger";

    /// <summary>Npgsql connection string of the database holding the membership table.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>For a silo: the port silos talk to each other on.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>For a silo: the port gateways (Orleans clients) connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>For a silo: the IP address it advertises to the others; by default, one of the machine's own.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>How long a silo waits for a probe's answer before counting it missed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many missed probes in a row make a silo suspect another.</summary>
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>
    /// How long a call may take before it fails: for a gateway in client mode, a call into the cluster
    /// (answered <c>unavailable</c>); for a silo, a call between grains (e.g. to a silo that just died).
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// For a silo in a Kubernetes pod: use Orleans' Kubernetes hosting (silo named after the pod, the
    /// pod's IP advertised, silos whose pods are gone declared dead at once). Needs the environment
    /// variables <c>POD_NAME</c>, <c>POD_NAMESPACE</c> and <c>POD_IP</c> (the manifests in <c>k8s/</c> set them).
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>The environment variables <see cref="Kubernetes"/> hosting reads.</summary>
    public static readonly string[] KubernetesEnvironment = ["POD_NAME", "POD_NAMESPACE", "POD_IP"];

    /// <summary>The <c>Cluster</c> section of <paramref name="configuration"/> (defaults where it says nothing).</summary>
    public static MessengerClusterOptions From(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<MessengerClusterOptions>() ?? new MessengerClusterOptions();

    /// <summary>True for a gateway in client mode.</summary>
    public bool IsClient => string.Equals(Mode, ClientMode, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the settings a gateway needs; the message names the one that is wrong.</summary>
    public void ValidateForGateway()
    {
        if (!IsClient && !string.Equals(Mode, StandaloneMode, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(Mode)} must be '{StandaloneMode}' or '{ClientMode}', is '{Mode}'.");
        }
        if (!IsClient) return;
        ValidateMembership();
        ValidateResponseTimeout();
    }

    private void ValidateResponseTimeout()
    {
        if (ResponseTimeout < TimeSpan.FromSeconds(1) || ResponseTimeout > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(ResponseTimeout)} must be 00:00:01 to 00:05:00, is {ResponseTimeout}.");
        }
    }

    /// <summary>Checks the settings a silo needs; the message names the one that is wrong.</summary>
    public void ValidateForSilo()
    {
        ValidateMembership();
        ValidateResponseTimeout();
        ValidatePort(SiloPort, nameof(SiloPort));
        ValidatePort(GatewayPort, nameof(GatewayPort));
        if (SiloPort == GatewayPort) throw new InvalidOperationException($"{SectionName}:{nameof(SiloPort)} and {SectionName}:{nameof(GatewayPort)} must differ (both are {SiloPort}).");
        if (AdvertisedAddress is not null && !IPAddress.TryParse(AdvertisedAddress, out _))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(AdvertisedAddress)} must be an IP address, is '{AdvertisedAddress}'.");
        }
        if (ProbeTimeout < TimeSpan.FromMilliseconds(100) || ProbeTimeout > TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(ProbeTimeout)} must be 00:00:00.1 to 00:01:00, is {ProbeTimeout}.");
        }
        if (MissedProbesLimit is < 1 or > 10)
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(MissedProbesLimit)} must be 1 to 10, is {MissedProbesLimit}.");
        }
        if (Kubernetes) ValidateKubernetes();
    }

    private void ValidateKubernetes()
    {
        foreach (var name in KubernetesEnvironment)
        {
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name)))
            {
                throw new InvalidOperationException($"{SectionName}:{nameof(Kubernetes)} is on, so the environment variable {name} must be set (from the pod's fieldRef).");
            }
        }
        if (AdvertisedAddress is not null)
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(AdvertisedAddress)} must not be set with {SectionName}:{nameof(Kubernetes)}: the pod's IP is advertised.");
        }
        // Orleans' Kubernetes hosting takes the cluster's ids from these variables when they are set: they must agree with ours.
        foreach (var (variable, value, setting) in new[] { ("ORLEANS_CLUSTER_ID", ClusterId, nameof(ClusterId)), ("ORLEANS_SERVICE_ID", ServiceId, nameof(ServiceId)) })
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment) && fromEnvironment != value)
            {
                throw new InvalidOperationException($"the environment variable {variable} ('{fromEnvironment}') and {SectionName}:{setting} ('{value}') must be equal.");
            }
        }
    }

    private void ValidateMembership()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(ConnectionString)} must be set: the PostgreSQL database holding the cluster's membership table.");
        }
        if (string.IsNullOrWhiteSpace(ClusterId)) throw new InvalidOperationException($"{SectionName}:{nameof(ClusterId)} must be set.");
        if (string.IsNullOrWhiteSpace(ServiceId)) throw new InvalidOperationException($"{SectionName}:{nameof(ServiceId)} must be set.");
    }

    private static void ValidatePort(int port, string name)
    {
        if (port is < 1 or > 65535) throw new InvalidOperationException($"{SectionName}:{name} must be 1 to 65535, is {port}.");
    }
}
