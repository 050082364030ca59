using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Messenger.Testing;

namespace Messenger.Tests.Deployment;

/// <summary>
/// Runs <c>k8s/validate/validate.mjs</c> (the Kubernetes schemas, offline) and reads what it printed:
/// the manifests of <c>k8s/</c>, summarised.
/// </summary>
internal static class Manifests
{
    public static string Directory { get; } = Path.Combine(Repository.Root, "k8s");

    private static readonly string Validator = Path.Combine(Directory, "validate", "validate.mjs");

    private static readonly Lazy<Task<ManifestSummary>> Summary = new(LoadAsync);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The summary of <c>k8s/</c>; the validator runs once for all the tests.</summary>
    public static Task<ManifestSummary> GetAsync() => Summary.Value;

    /// <summary>Runs the validator on <paramref name="directory"/> (default: <c>k8s/</c>).</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> ValidateAsync(string? directory = null)
    {
        var modules = Path.Combine(Directory, "validate", "node_modules");
        if (!System.IO.Directory.Exists(modules))
        {
            Assert.Fail($"{modules} is missing: run scripts/install-test-deps.sh (it installs Node.js when missing and the validator's npm packages).");
        }
        return await Repository.RunAsync("node", directory is null ? [Validator] : [Validator, directory], Repository.Root, null, TimeSpan.FromSeconds(60));
    }

    private static async Task<ManifestSummary> LoadAsync()
    {
        var (code, stdout, stderr) = await ValidateAsync();
        Assert.True(code == 0, $"node k8s/validate/validate.mjs failed (exit code {code}):\n{stderr}");
        return JsonSerializer.Deserialize<ManifestSummary>(stdout, Json)
            ?? throw new InvalidOperationException("the validator printed no summary");
    }
}

/// <summary>A variable a container ends up with, and where it comes from.</summary>
/// <param name="Literal">Its value when the manifests say it (a value, a ConfigMap's, a pod label's); null when only the cluster knows it (a Secret, the pod's name or IP).</param>
/// <param name="Source">Where it comes from, for messages: "env", "ConfigMap messenger", "secretKeyRef messenger/Key", "fieldRef status.podIP".</param>
/// <param name="Reference">The env entry's reference, when it has one.</param>
internal sealed record EnvValue(string Name, string? Literal, string Source, EnvReference? Reference = null);

/// <summary>Lookups across every document of a <see cref="ManifestSummary"/>.</summary>
internal static class ManifestLookups
{
    public static IEnumerable<ManifestDocument> OfKind(this ManifestSummary m, string kind) => m.Documents.Where(d => d.Kind == kind);

    public static ManifestDocument? Find(this ManifestSummary m, string kind, string name) =>
        m.Documents.SingleOrDefault(d => d.Kind == kind && d.Name == name);

    /// <summary>Every document with a pod template, with its containers.</summary>
    public static IEnumerable<ManifestDocument> Workloads(this ManifestSummary m) => m.Documents.Where(d => d.Pod is not null);

    public static IEnumerable<(ManifestDocument Workload, ContainerSummary Container)> Containers(this ManifestSummary m) =>
        m.Workloads().SelectMany(w => w.Pod!.InitContainers.Concat(w.Pod.Containers).Select(c => (w, c)));

    /// <summary>True when every label of <paramref name="selector"/> is on <paramref name="labels"/> with the same value.</summary>
    public static bool Selects(this IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);

    /// <summary>The workloads whose pods <paramref name="selector"/> selects.</summary>
    public static List<ManifestDocument> WorkloadsSelectedBy(this ManifestSummary m, IReadOnlyDictionary<string, string> selector) =>
        m.Workloads().Where(w => selector.Selects(w.Pod!.Labels)).ToList();

    /// <summary>
    /// The environment <paramref name="container"/> of <paramref name="workload"/> gets, as Kubernetes
    /// builds it: every envFrom source in order, then env, each overriding what came before.
    /// </summary>
    public static Dictionary<string, EnvValue> EnvironmentOf(this ManifestSummary m, ManifestDocument workload, ContainerSummary container)
    {
        var environment = new Dictionary<string, EnvValue>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom)
        {
            var document = m.Find(source.Kind, source.Name);
            if (document is null) continue; // reported by the reference check
            if (source.Kind == "ConfigMap")
            {
                foreach (var (key, value) in document.Data ?? [])
                {
                    environment[source.Prefix + key] = new EnvValue(source.Prefix + key, value, $"ConfigMap {source.Name}");
                }
            }
            else
            {
                foreach (var key in document.Keys ?? [])
                {
                    environment[source.Prefix + key] = new EnvValue(source.Prefix + key, null, $"Secret {source.Name}");
                }
            }
        }
        foreach (var variable in container.Env)
        {
            environment[variable.Name] = variable.From switch
            {
                null => new EnvValue(variable.Name, variable.Value ?? "", "env"),
                { Kind: "fieldRef", Path: var path } => new EnvValue(variable.Name, LabelValue(workload.Pod!, path), $"fieldRef {path}", variable.From),
                { Kind: "configMapKeyRef" } r => new EnvValue(variable.Name,
                    m.Find("ConfigMap", r.Name ?? "")?.Data?.GetValueOrDefault(r.Key ?? ""), $"configMapKeyRef {r.Name}/{r.Key}", r),
                var r => new EnvValue(variable.Name, null, $"{r.Kind} {r.Name}/{r.Key}", r),
            };
        }
        return environment;
    }

    /// <summary>The value of <c>metadata.labels['key']</c> on the pod, or null for any other field.</summary>
    public static string? LabelValue(PodSummary pod, string? fieldPath) =>
        LabelKey(fieldPath) is { } key ? pod.Labels.GetValueOrDefault(key) : null;

    /// <summary>The key of a <c>metadata.labels['key']</c> field path, or null.</summary>
    public static string? LabelKey(string? fieldPath) =>
        fieldPath is not null && fieldPath.StartsWith("metadata.labels['", StringComparison.Ordinal) && fieldPath.EndsWith("']", StringComparison.Ordinal)
            ? fieldPath["metadata.labels['".Length..^2]
            : null;
}
