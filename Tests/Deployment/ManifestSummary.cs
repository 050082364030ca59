namespace Messenger.Tests.Deployment;

// The JSON document k8s/validate/validate.mjs prints: what the manifests in k8s/ say, once every one of
// them passed the Kubernetes schemas. Only the parts the tests check are summarised.

internal sealed record ManifestSummary
{
    public string Directory { get; init; } = "";
    public List<string> Files { get; init; } = [];
    public KustomizationSummary? Kustomization { get; init; }
    public List<ManifestDocument> Documents { get; init; } = [];
}

internal sealed record KustomizationSummary
{
    public string File { get; init; } = "";
    public string? Namespace { get; init; }
    public List<string> Resources { get; init; } = [];
    public List<ImageOverride> Images { get; init; } = [];
}

internal sealed record ImageOverride(string Name, string? NewName, string? NewTag);

internal sealed record ManifestDocument
{
    public string File { get; init; } = "";
    public int Index { get; init; }
    public string ApiVersion { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> Annotations { get; init; } = [];

    /// <summary>ConfigMap: its data.</summary>
    public Dictionary<string, string>? Data { get; init; }

    /// <summary>Secret: the names of its keys (never the values).</summary>
    public List<string>? Keys { get; init; }

    /// <summary>Deployment and other replicated workloads.</summary>
    public int? Replicas { get; init; }
    public Dictionary<string, string>? Selector { get; init; }
    public int SelectorExpressions { get; init; }

    /// <summary>Every workload (Deployment, Job, …): its pod template.</summary>
    public PodSummary? Pod { get; init; }

    public ServiceSummary? Service { get; init; }
    public IngressSummary? Ingress { get; init; }
    public BudgetSummary? Budget { get; init; }
    public AutoscalerSummary? Autoscaler { get; init; }
    public List<RuleSummary>? Rules { get; init; }
    public ObjectReference? RoleRef { get; init; }
    public List<SubjectSummary>? Subjects { get; init; }

    public override string ToString() => $"{Kind} {Name} ({File})";
}

internal sealed record PodSummary
{
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> Annotations { get; init; } = [];
    public bool? RunAsNonRoot { get; init; }
    public string? ServiceAccountName { get; init; }
    public bool? AutomountServiceAccountToken { get; init; }
    public int? TerminationGracePeriodSeconds { get; init; }
    public string? RestartPolicy { get; init; }
    public List<ContainerSummary> InitContainers { get; init; } = [];
    public List<ContainerSummary> Containers { get; init; } = [];
}

internal sealed record ContainerSummary
{
    public string Name { get; init; } = "";
    public string? Image { get; init; }
    public List<string> Command { get; init; } = [];
    public List<string> Args { get; init; } = [];
    public List<EnvSourceSummary> EnvFrom { get; init; } = [];
    public List<EnvVarSummary> Env { get; init; } = [];
    public List<PortSummary> Ports { get; init; } = [];

    /// <summary>"startup", "readiness", "liveness": the probes the container has.</summary>
    public Dictionary<string, ProbeSummary> Probes { get; init; } = [];
    public HookSummary? PreStop { get; init; }
    public ResourcesSummary Resources { get; init; } = new();
}

/// <summary>One envFrom entry: every key of a ConfigMap or Secret becomes a variable.</summary>
internal sealed record EnvSourceSummary(string Kind, string Name, string Prefix, bool Optional);

/// <summary>One env entry: a literal <see cref="Value"/>, or <see cref="From"/> somewhere else.</summary>
internal sealed record EnvVarSummary(string Name, string? Value, EnvReference? From);

/// <summary>fieldRef (<see cref="Path"/>), secretKeyRef or configMapKeyRef (<see cref="Name"/>, <see cref="Key"/>).</summary>
internal sealed record EnvReference(string Kind, string? Path, string? Name, string? Key);

internal sealed record PortSummary(string? Name, int ContainerPort, string Protocol);

/// <summary>A probe; <see cref="Port"/> is a port's name or number, as written.</summary>
internal sealed record ProbeSummary(string Type, string? Path, string? Port);

/// <summary>A lifecycle hook; <see cref="SleepSeconds"/> when it only sleeps.</summary>
internal sealed record HookSummary(string Type, int? SleepSeconds, List<string>? Command);

internal sealed record ResourcesSummary
{
    public Dictionary<string, string> Requests { get; init; } = [];
    public Dictionary<string, string> Limits { get; init; } = [];
}

internal sealed record ServiceSummary
{
    public string Type { get; init; } = "ClusterIP";
    public string? ClusterIP { get; init; }
    public Dictionary<string, string> Selector { get; init; } = [];
    public List<ServicePortSummary> Ports { get; init; } = [];
}

/// <summary>A Service port; <see cref="TargetPort"/> is a container port's name or number, as written.</summary>
internal sealed record ServicePortSummary(string? Name, int Port, string TargetPort, string Protocol);

internal sealed record IngressSummary
{
    public string? ClassName { get; init; }
    public List<string> TlsHosts { get; init; } = [];
    public List<BackendSummary> Backends { get; init; } = [];
}

/// <summary>An Ingress path's backend; <see cref="Port"/> is the Service port's name or number.</summary>
internal sealed record BackendSummary(string? Host, string? Path, string? PathType, string? Service, string? Port);

internal sealed record BudgetSummary
{
    public Dictionary<string, string> Selector { get; init; } = [];
    public int SelectorExpressions { get; init; }
    public string? MaxUnavailable { get; init; }
    public string? MinAvailable { get; init; }
}

internal sealed record AutoscalerSummary
{
    public ObjectReference Target { get; init; } = new("", "");
    public int MinReplicas { get; init; }
    public int MaxReplicas { get; init; }

    /// <summary>The resources (cpu, memory) it scales on.</summary>
    public List<string> Resources { get; init; } = [];
}

internal sealed record ObjectReference(string Kind, string Name)
{
    public string? ApiVersion { get; init; }
}

internal sealed record RuleSummary(List<string> ApiGroups, List<string> Resources, List<string> Verbs);

internal sealed record SubjectSummary(string Kind, string Name, string? Namespace);
