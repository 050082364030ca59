using System.Globalization;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Messenger.Grains.Hosting;
using Messenger.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Messenger.Tests.Deployment;

/// <summary>
/// The Kubernetes manifests in <c>k8s/</c>, offline: every document passes the Kubernetes schemas
/// (<c>k8s/validate/validate.mjs</c>, on Node.js), and what they say agrees with the code: each variable
/// and argument is a setting the code has, with a value it accepts; ports, probes, Services, the Ingress,
/// disruption budgets and autoscalers point at what exists; shutdown has the time it needs; silos get
/// what Orleans' Kubernetes hosting needs, and no more rights than it uses.
/// </summary>
public sealed partial class ManifestTests
{
    /// <summary>What Orleans.Hosting.Kubernetes 10.4.2's KubernetesClusterAgent does with pods: reads its
    /// own (get) and patches the orleans/* labels onto it (patch), lists and watches the cluster's
    /// (list, watch). Deleting pods (delete) happens only with DeleteDefunctSiloPods, which the silo
    /// leaves off.</summary>
    private static readonly string[] OrleansPodVerbs = ["get", "list", "patch", "watch"];

    /// <summary>Variables that ASP.NET Core, .NET and Orleans' Kubernetes hosting read, not the Messenger options.</summary>
    private static readonly string[] PlatformVariablePrefixes = ["ASPNETCORE_", "DOTNET_", "Logging__"];

    private static readonly string[] PlatformVariables = ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_CLUSTER_ID", "ORLEANS_SERVICE_ID"];

    /// <summary>The pod fields Orleans' Kubernetes hosting needs, by variable (MessengerClusterOptions.KubernetesEnvironment).</summary>
    private static readonly Dictionary<string, string> PodFields = new()
    {
        ["POD_NAME"] = "metadata.name",
        ["POD_NAMESPACE"] = "metadata.namespace",
        ["POD_IP"] = "status.podIP",
    };

    private static readonly string[] HealthPaths = ["/healthz", "/readyz"];

    private const string ServiceIdLabel = "orleans/serviceId";
    private const string ClusterIdLabel = "orleans/clusterId";

    [Fact]
    public async Task Validator_AcceptsEveryManifest_AndTheKustomizationListsAllButTheExamples()
    {
        var m = await Manifests.GetAsync();
        Assert.NotNull(m.Kustomization);
        var manifests = m.Files.Where(f => f != m.Kustomization.File).ToList();
        // An example (the Secret with placeholders) is validated, but never applied over the real thing.
        var deployable = manifests.Where(f => !f.Contains(".example.", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(deployable, m.Kustomization.Resources.Order().ToList());
        Assert.All(m.OfKind("Secret"), s => Assert.Contains(".example.", s.File, StringComparison.Ordinal));
        foreach (var kind in new[] { "ConfigMap", "Secret", "Job", "Deployment", "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceAccount", "Role", "RoleBinding" })
        {
            Assert.True(m.OfKind(kind).Any(), $"no {kind} in {m.Directory}");
        }
        Assert.Equal(["gateway", "migrate", "silo"], m.Containers().Select(x => Role(x.Container)).Distinct().Order());
    }

    [Fact]
    public async Task EveryVariableAndArgument_IsASettingOfTheCode_WithAValueItAccepts()
    {
        var m = await Manifests.GetAsync();
        Assert.Contains("Cluster", SettingsCatalog.Sections.Keys);
        Assert.Contains("Gateway", SettingsCatalog.Sections.Keys);
        Assert.Contains("Dashboard", SettingsCatalog.Sections.Keys);
        var problems = new List<string>();
        foreach (var (workload, container) in m.Containers())
        {
            var where = $"{workload}, container {container.Name}";
            foreach (var variable in m.EnvironmentOf(workload, container).Values)
            {
                if (VariableProblem(variable.Name, variable.Literal) is { } problem) problems.Add($"{where}: {variable.Name} (from {variable.Source}): {problem}");
            }
            var (program, arguments) = Program(container);
            for (var i = 0; i < arguments.Count; i++)
            {
                var argument = arguments[i];
                if (argument == "migrate" && i == 0 && program == "Messenger.Silo.dll") continue;
                if (SettingArgument(argument) is not var (key, value))
                {
                    problems.Add($"{where}: argument '{argument}' is not --Section:Name=value (nor the silo's 'migrate' command)");
                }
                else if (SettingsCatalog.Problem(key, value) is { } problem)
                {
                    problems.Add($"{where}: argument '{argument}': {problem}");
                }
            }
        }
        // Keys nobody uses yet must be settings too: someone will.
        foreach (var configMap in m.OfKind("ConfigMap"))
        {
            foreach (var (key, value) in configMap.Data ?? []) AddProblem(problems, configMap, key, value);
        }
        foreach (var secret in m.OfKind("Secret"))
        {
            foreach (var key in secret.Keys ?? []) AddProblem(problems, secret, key, null);
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));

        static void AddProblem(List<string> problems, ManifestDocument document, string key, string? value)
        {
            if (VariableProblem(key, value) is { } problem) problems.Add($"{document}: key {key}: {problem}");
        }
    }

    [Fact]
    public async Task EveryReference_NamesAConfigMapSecretKeyOrPodFieldThatExists()
    {
        var m = await Manifests.GetAsync();
        var problems = new List<string>();
        foreach (var (workload, container) in m.Containers())
        {
            var where = $"{workload}, container {container.Name}";
            foreach (var source in container.EnvFrom)
            {
                if (m.Find(source.Kind, source.Name) is null) problems.Add($"{where}: envFrom names {source.Kind} {source.Name}, which no manifest defines");
            }
            foreach (var variable in container.Env.Where(v => v.From is not null))
            {
                var from = variable.From!;
                switch (from.Kind)
                {
                    case "secretKeyRef" or "configMapKeyRef":
                        var kind = from.Kind == "secretKeyRef" ? "Secret" : "ConfigMap";
                        var keys = m.Find(kind, from.Name ?? "") is { } d ? (d.Keys ?? d.Data?.Keys.ToList() ?? []) : null;
                        if (keys is null) problems.Add($"{where}: {variable.Name} names {kind} {from.Name}, which no manifest defines");
                        else if (!keys.Contains(from.Key ?? "")) problems.Add($"{where}: {variable.Name} names key {from.Key}, which {kind} {from.Name} does not have");
                        break;
                    case "fieldRef" when ManifestLookups.LabelKey(from.Path) is { } label:
                        if (!workload.Pod!.Labels.ContainsKey(label)) problems.Add($"{where}: {variable.Name} reads label {label}, which the pod does not carry");
                        break;
                    case "fieldRef" when from.Path is "metadata.name" or "metadata.namespace" or "status.podIP" or "status.hostIP" or "spec.nodeName" or "spec.serviceAccountName":
                        break;
                    default:
                        problems.Add($"{where}: {variable.Name} comes from {from.Kind} {from.Path}, which these tests do not know");
                        break;
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Ports_AndProbes_AgreeWithTheSettings()
    {
        var m = await Manifests.GetAsync();
        var defaults = new MessengerClusterOptions();
        foreach (var (workload, container) in m.Containers())
        {
            var where = $"{workload}, container {container.Name}";
            var environment = m.EnvironmentOf(workload, container);
            var role = Role(container);
            Assert.True(container.Ports.Select(p => p.Name).Distinct().Count() == container.Ports.Count, $"{where}: port names repeat");
            Assert.All(container.Ports, p => Assert.False(string.IsNullOrEmpty(p.Name), $"{where}: port {p.ContainerPort} has no name (probes and Services refer to ports by name)"));
            if (role == "migrate")
            {
                Assert.Empty(container.Ports);
                continue;
            }

            var urls = SettingOf(environment, container, "ASPNETCORE_URLS", "urls");
            Assert.True(urls is not null, $"{where}: ASPNETCORE_URLS (or --urls) must say where ASP.NET Core listens");
            var listening = UrlPort().Matches(urls).Select(x => int.Parse(x.Groups["port"].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.True(listening.Count == 1, $"{where}: ASPNETCORE_URLS '{urls}' should name exactly one port");
            AssertPort(container, "http", listening[0], $"the port of ASPNETCORE_URLS '{urls}'", where);

            if (role == "silo")
            {
                var siloPort = IntSetting(environment, "Cluster__SiloPort");
                var gatewayPort = IntSetting(environment, "Cluster__GatewayPort");
                AssertPort(container, "silo", siloPort ?? defaults.SiloPort, siloPort is null ? "Cluster__SiloPort's default" : "Cluster__SiloPort", where);
                AssertPort(container, "gateway", gatewayPort ?? defaults.GatewayPort, gatewayPort is null ? "Cluster__GatewayPort's default" : "Cluster__GatewayPort", where);
                AssertProbe(container, "startup", "/readyz", where);
            }
            else
            {
                Assert.True(container.Ports.Count == 1, $"{where}: a gateway serves only its http port");
            }
            AssertProbe(container, "readiness", "/readyz", where);
            AssertProbe(container, "liveness", "/healthz", where);
            foreach (var (kind, probe) in container.Probes)
            {
                Assert.True(probe.Type == "httpGet", $"{where}: the {kind} probe should be an HTTP GET of /healthz or /readyz, is {probe.Type}");
                Assert.Contains(probe.Path, HealthPaths);
                Assert.True(ResolvesPort(container, probe.Port), $"{where}: the {kind} probe's port '{probe.Port}' is none of the container's ports");
            }
        }
    }

    [Fact]
    public async Task Services_Ingress_DisruptionBudgets_AndAutoscalers_PointAtWhatExists()
    {
        var m = await Manifests.GetAsync();
        var deployments = m.OfKind("Deployment").ToList();
        foreach (var deployment in deployments)
        {
            Assert.True(deployment.Selector!.Selects(deployment.Pod!.Labels) && deployment.SelectorExpressions == 0,
                $"{deployment}: its selector must select its own pods by labels");
        }
        foreach (var service in m.OfKind("Service"))
        {
            var selected = m.WorkloadsSelectedBy(service.Service!.Selector);
            Assert.True(selected.Count > 0, $"{service}: its selector matches no workload's pods");
            foreach (var port in service.Service.Ports)
            {
                Assert.All(selected, w => Assert.True(w.Pod!.Containers.Any(c => ResolvesPort(c, port.TargetPort)),
                    $"{service}: targetPort '{port.TargetPort}' is not a port of {w}'s pods"));
            }
        }
        foreach (var ingress in m.OfKind("Ingress"))
        {
            Assert.NotEmpty(ingress.Ingress!.Backends);
            foreach (var backend in ingress.Ingress.Backends)
            {
                var service = m.Find("Service", backend.Service ?? "");
                Assert.True(service is not null, $"{ingress}: backend Service '{backend.Service}' is not defined");
                Assert.True(service.Service!.Ports.Any(p => p.Name == backend.Port || p.Port.ToString(CultureInfo.InvariantCulture) == backend.Port),
                    $"{ingress}: backend port '{backend.Port}' is not a port of {service}");
            }
        }
        foreach (var budget in m.OfKind("PodDisruptionBudget"))
        {
            Assert.True(budget.Budget!.SelectorExpressions == 0 && deployments.Any(d => budget.Budget.Selector.Selects(d.Pod!.Labels)),
                $"{budget}: its selector matches no Deployment's pods");
        }
        foreach (var autoscaler in m.OfKind("HorizontalPodAutoscaler"))
        {
            var target = autoscaler.Autoscaler!.Target;
            var scaled = m.Documents.SingleOrDefault(d => d.Kind == target.Kind && d.Name == target.Name && d.ApiVersion == target.ApiVersion);
            Assert.True(scaled is not null, $"{autoscaler}: scales {target.ApiVersion} {target.Kind} {target.Name}, which is not defined");
            Assert.True(scaled.Replicas is null, $"{scaled}: sets replicas, which every apply would reset under {autoscaler}");
            Assert.True(autoscaler.Autoscaler.MinReplicas >= 2 && autoscaler.Autoscaler.MinReplicas <= autoscaler.Autoscaler.MaxReplicas,
                $"{autoscaler}: minReplicas must be at least 2 (one may be down) and at most maxReplicas");
            Assert.Contains("cpu", autoscaler.Autoscaler.Resources);
        }
        // Every long-running workload has exactly one of each.
        foreach (var deployment in deployments)
        {
            Assert.Single(m.OfKind("PodDisruptionBudget"), b => b.Budget!.Selector.Selects(deployment.Pod!.Labels));
            Assert.Single(m.OfKind("HorizontalPodAutoscaler"), a => a.Autoscaler!.Target.Kind == "Deployment" && a.Autoscaler.Target.Name == deployment.Name);
        }
    }

    [Fact]
    public async Task Shutdown_HasTheTimeItNeeds_GatewaysDrainBeforeTheKill()
    {
        var m = await Manifests.GetAsync();
        var hostShutdown = new HostOptions().ShutdownTimeout;
        foreach (var (workload, container) in m.Containers())
        {
            var where = $"{workload}, container {container.Name}";
            var grace = workload.Pod!.TerminationGracePeriodSeconds ?? 30;
            switch (Role(container))
            {
                case "gateway":
                    var environment = m.EnvironmentOf(workload, container);
                    Assert.True(environment.TryGetValue("Gateway__DrainTimeout", out var drainSetting) && drainSetting.Literal is not null,
                        $"{where}: Gateway__DrainTimeout must be set explicitly: the grace period is computed from it");
                    var drain = TimeSpan.Parse(drainSetting.Literal, CultureInfo.InvariantCulture);
                    var preStop = container.PreStop?.SleepSeconds;
                    Assert.True(preStop is > 0, $"{where}: a preStop sleep must let the Service stop routing to the pod before it drains");
                    Assert.True(grace > preStop + drain.TotalSeconds + 5,
                        $"{where}: terminationGracePeriodSeconds {grace} must exceed the preStop sleep ({preStop} s) + Gateway__DrainTimeout ({drain.TotalSeconds} s) + 5 s");
                    // The gateway raises the .NET host's shutdown timeout above its drain by itself (GatewayOptions.HostShutdownTimeout).
                    break;
                case "silo":
                    Assert.True(grace > hostShutdown.TotalSeconds,
                        $"{where}: terminationGracePeriodSeconds {grace} must exceed the .NET host's shutdown timeout ({hostShutdown}) so that the silo leaves the cluster gracefully");
                    break;
            }
        }
    }

    [Fact]
    public async Task Silos_GetWhatOrleansKubernetesHostingNeeds_AndGatewaysJoinTheSameCluster()
    {
        var m = await Manifests.GetAsync();
        Assert.Equal(MessengerClusterOptions.KubernetesEnvironment.Order(), PodFields.Keys.Order());
        var silos = m.Containers().Where(x => Role(x.Container) == "silo").ToList();
        Assert.NotEmpty(silos);
        var clusters = new HashSet<(string? ServiceId, string? ClusterId)>();
        foreach (var (workload, container) in silos)
        {
            var where = $"{workload}, container {container.Name}";
            var pod = workload.Pod!;
            Assert.True(pod.Labels.ContainsKey(ServiceIdLabel) && pod.Labels.ContainsKey(ClusterIdLabel), $"{where}: the pods must carry the labels {ServiceIdLabel} and {ClusterIdLabel}");
            var environment = m.EnvironmentOf(workload, container);
            Assert.True(string.Equals(environment.GetValueOrDefault("Cluster__Kubernetes")?.Literal, "true", StringComparison.OrdinalIgnoreCase),
                $"{where}: Cluster__Kubernetes must be true (Orleans' Kubernetes hosting)");
            Assert.False(environment.ContainsKey("Cluster__AdvertisedAddress"), $"{where}: Cluster__AdvertisedAddress must not be set with Kubernetes hosting: the pod's IP is advertised");
            foreach (var (variable, field) in PodFields)
            {
                Assert.True(environment.GetValueOrDefault(variable)?.Reference?.Path == field, $"{where}: {variable} must come from the pod's {field}");
            }
            // Orleans takes the ids from ORLEANS_*, the silo from Cluster__*: the same label feeds both.
            foreach (var (label, variables) in new[] { (ClusterIdLabel, new[] { "ORLEANS_CLUSTER_ID", "Cluster__ClusterId" }), (ServiceIdLabel, new[] { "ORLEANS_SERVICE_ID", "Cluster__ServiceId" }) })
            {
                foreach (var variable in variables)
                {
                    Assert.True(environment.GetValueOrDefault(variable)?.Reference?.Path == $"metadata.labels['{label}']", $"{where}: {variable} must come from the pod's label {label}");
                }
            }
            clusters.Add((pod.Labels[ServiceIdLabel], pod.Labels[ClusterIdLabel]));
        }
        Assert.Single(clusters);

        // A gateway must name the silos' cluster, and must not look like a silo to Orleans' Kubernetes hosting.
        var gateways = m.Containers().Where(x => Role(x.Container) == "gateway").ToList();
        Assert.NotEmpty(gateways);
        var defaults = new MessengerClusterOptions();
        foreach (var (workload, container) in gateways)
        {
            var where = $"{workload}, container {container.Name}";
            Assert.False(workload.Pod!.Labels.Keys.Any(k => k.StartsWith("orleans/", StringComparison.Ordinal)), $"{where}: orleans/* labels would make Orleans take the gateways for silos");
            var environment = m.EnvironmentOf(workload, container);
            var named = (SettingOf(environment, container, "Cluster__ServiceId") ?? defaults.ServiceId, SettingOf(environment, container, "Cluster__ClusterId") ?? defaults.ClusterId);
            Assert.True(clusters.Single() == named, $"{where}: joins cluster {named}, the silos are in {clusters.Single()}");
            var mode = SettingOf(environment, container, "Cluster__Mode");
            Assert.True(string.Equals(mode, MessengerClusterOptions.ClientMode, StringComparison.OrdinalIgnoreCase),
                $"{where}: a gateway of the cluster runs with Cluster:Mode={MessengerClusterOptions.ClientMode}, has {mode ?? "none"}");
        }
    }

    [Fact]
    public async Task Silos_MayDoWithPodsExactlyWhatOrleansDoes_AndNothingElseTalksToTheApiServer()
    {
        var m = await Manifests.GetAsync();
        foreach (var silo in m.Workloads().Where(w => w.Pod!.Containers.Any(c => Role(c) == "silo")))
        {
            var account = silo.Pod!.ServiceAccountName;
            Assert.True(account is not null && m.Find("ServiceAccount", account) is not null, $"{silo}: needs a ServiceAccount of its own");
            Assert.NotEqual(false, silo.Pod.AutomountServiceAccountToken);
            var roles = m.OfKind("RoleBinding")
                .Where(b => b.Subjects!.Any(s => s.Kind == "ServiceAccount" && s.Name == account))
                .Select(b => Assert.IsType<ManifestDocument>(m.Find(b.RoleRef!.Kind, b.RoleRef.Name)))
                .ToList();
            var role = Assert.Single(roles);
            var rule = Assert.Single(role.Rules!);
            Assert.Equal([""], rule.ApiGroups);
            Assert.Equal(["pods"], rule.Resources);
            Assert.Equal(OrleansPodVerbs, rule.Verbs.Order());
        }
        Assert.Empty(m.OfKind("ClusterRoleBinding"));
        foreach (var other in m.Workloads().Where(w => !w.Pod!.Containers.Any(c => Role(c) == "silo")))
        {
            Assert.True(other.Pod!.AutomountServiceAccountToken == false, $"{other}: has no use for an API token: set automountServiceAccountToken: false");
        }
    }

    [Fact]
    public async Task EveryWorkload_RunsTheOneImage_ThatTheDockerfileBuilds()
    {
        var m = await Manifests.GetAsync();
        var images = m.Containers().Select(x => x.Container.Image).Distinct().ToList();
        Assert.True(images.Count == 1, "silos, gateways and the migration Job must run one image (k8s/Dockerfile builds it): they run "
            + string.Join(", ", m.Containers().Select(x => $"{x.Workload.Name}/{x.Container.Name}: {x.Container.Image}")));
        var image = images[0];
        Assert.False(string.IsNullOrEmpty(image));
        Assert.True(m.Kustomization!.Images.Any(i => i.Name == image), $"kustomization.yaml has no images entry for '{image}' (where to pull it from)");

        // Each program is published where the manifests start it from.
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Manifests.Directory, "Dockerfile"));
        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match publish in Publish().Matches(dockerfile))
        {
            var project = XDocument.Load(Path.Combine(Repository.Root, publish.Groups["project"].Value));
            var assembly = project.Descendants("AssemblyName").Single().Value;
            published[$"{publish.Groups["output"].Value.TrimEnd('/')}/{assembly}.dll"] = publish.Groups["project"].Value;
        }
        foreach (var (workload, container) in m.Containers())
        {
            var path = container.Command.Concat(container.Args).ElementAtOrDefault(1);
            Assert.True(path is not null && published.ContainsKey(path),
                $"{workload}, container {container.Name}: runs {path}, but k8s/Dockerfile publishes only {string.Join(", ", published.Keys)}");
        }
        var user = Assert.Single(DockerUser().Matches(dockerfile)).Groups["user"].Value;
        Assert.DoesNotContain(user, new[] { "root", "0" });
        Assert.All(m.Workloads(), w => Assert.True(w.Pod!.RunAsNonRoot == true, $"{w}: set securityContext.runAsNonRoot"));
    }

    [Fact]
    public async Task EachProcess_AcceptsItsSettings_AsItsOwnStartupChecksDo()
    {
        var m = await Manifests.GetAsync();
        foreach (var (workload, container) in m.Containers())
        {
            var where = $"{workload}, container {container.Name}";
            var configuration = ConfigurationOf(m.EnvironmentOf(workload, container), container);
            try
            {
                var cluster = MessengerClusterOptions.From(configuration);
                switch (Role(container))
                {
                    case "silo" or "migrate":
                        var storage = StorageOptions.From(configuration);
                        Assert.True(storage.IsPostgres, $"{where}: a silo needs Storage__Provider={StorageOptions.PostgresProvider}");
                        storage.Validate();
                        cluster.Kubernetes = false; // its variables are the pod's, checked above; not this process's
                        cluster.ValidateForSilo();
                        break;
                    case "gateway":
                        Assert.True(cluster.IsClient, $"{where}: a gateway of the cluster runs with Cluster:Mode={MessengerClusterOptions.ClientMode}");
                        cluster.ValidateForGateway();
                        Assert.True(configuration["Auth:SigningKey"] is not null, $"{where}: a client-mode gateway needs Auth__SigningKey");
                        foreach (var section in new[] { "Gateway", "Auth" }) ValidateSection(configuration, section);
                        break;
                }
            }
            catch (InvalidOperationException ex)
            {
                Assert.Fail($"{where}: {ex.Message}");
            }
        }
    }

    [Fact]
    public async Task Validator_RejectsBrokenDocuments()
    {
        const string Deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: example
            spec:
              replicas: 3
              selector:
                matchLabels: {app: example}
              template:
                metadata:
                  labels: {app: example}
                spec:
                  containers:
                    - name: example
                      image: messenger
            """;
        var breakages = new[]
        {
            (Good: "replicas: 3", Broken: "replicas: three", Expected: "/spec/replicas must be integer"),
            (Good: "kind: Deployment", Broken: "kind: Widget", Expected: "unknown apiVersion/kind apps/v1/Widget"),
        };
        var directory = System.IO.Directory.CreateTempSubdirectory("messenger-manifests-");
        try
        {
            // The document as written passes, so each failure below is its breakage's.
            var file = Path.Combine(directory.FullName, "example.yaml");
            await File.WriteAllTextAsync(file, Deployment);
            var (code, _, errors) = await Manifests.ValidateAsync(directory.FullName);
            Assert.True(code == 0, errors);

            foreach (var (good, broken, expected) in breakages)
            {
                await File.WriteAllTextAsync(file, Deployment.Replace(good, broken, StringComparison.Ordinal));
                (code, var stdout, errors) = await Manifests.ValidateAsync(directory.FullName);
                Assert.True(code != 0, $"the validator accepted '{broken}':\n{stdout}");
                Assert.Contains(expected, errors, StringComparison.Ordinal);
                Assert.Equal("", stdout);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>"silo", "migrate" or "gateway": which program a container runs, and how.</summary>
    private static string Role(ContainerSummary container)
    {
        var (program, arguments) = Program(container);
        return program switch
        {
            "Messenger.Silo.dll" => arguments.FirstOrDefault() == "migrate" ? "migrate" : "silo",
            "Messenger.Gateway.dll" => "gateway",
            _ => throw new InvalidOperationException($"container {container.Name} runs {program}, neither the silo nor the gateway"),
        };
    }

    /// <summary>The program (file name of the .dll that dotnet runs) and its arguments.</summary>
    private static (string Program, List<string> Arguments) Program(ContainerSummary container)
    {
        var line = container.Command.Concat(container.Args).ToList();
        if (line.Count < 2 || line[0] != "dotnet" || !line[1].EndsWith(".dll", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"container {container.Name} should run 'dotnet PROGRAM.dll', runs '{string.Join(' ', line)}'");
        }
        return (Path.GetFileName(line[1]), line[2..]);
    }

    /// <summary>Why a variable is not right; null when it is a setting with a good value, or the platform's.</summary>
    private static string? VariableProblem(string name, string? literal)
    {
        if (PlatformVariables.Contains(name) || PlatformVariablePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) return null;
        if (!name.Contains("__", StringComparison.Ordinal)) return "neither a setting (Section__Name) nor a variable the platform reads";
        return SettingsCatalog.Problem(name.Replace("__", ":", StringComparison.Ordinal), literal);
    }

    /// <summary>(key, value) of a <c>--Section:Name=value</c> argument, or null.</summary>
    private static (string Key, string Value)? SettingArgument(string argument) =>
        argument.StartsWith("--", StringComparison.Ordinal) && argument.IndexOf('=', StringComparison.Ordinal) is > 2 and var equals
            ? (argument[2..equals], argument[(equals + 1)..])
            : null;

    /// <summary>A setting's literal value: from an argument (<c>--Name=value</c>, command lines win) or the environment.</summary>
    private static string? SettingOf(Dictionary<string, EnvValue> environment, ContainerSummary container, string variable, string? argument = null)
    {
        argument ??= variable.Replace("__", ":", StringComparison.Ordinal);
        foreach (var arg in Program(container).Arguments)
        {
            if (SettingArgument(arg) is var (key, value) && string.Equals(key, argument, StringComparison.OrdinalIgnoreCase)) return value;
        }
        return environment.GetValueOrDefault(variable)?.Literal;
    }

    private static int? IntSetting(Dictionary<string, EnvValue> environment, string variable) =>
        environment.GetValueOrDefault(variable)?.Literal is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : null;

    private static void AssertPort(ContainerSummary container, string name, int expected, string setting, string where)
    {
        var port = container.Ports.SingleOrDefault(p => p.Name == name);
        Assert.True(port is not null, $"{where}: has no container port named '{name}'");
        Assert.True(port.ContainerPort == expected, $"{where}: container port '{name}' is {port.ContainerPort}, but {setting} is {expected}");
    }

    /// <summary>True when <paramref name="port"/> (a name or a number) is one of the container's ports.</summary>
    private static bool ResolvesPort(ContainerSummary container, string? port) =>
        container.Ports.Any(p => p.Name == port || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == port);

    private static void AssertProbe(ContainerSummary container, string kind, string path, string where)
    {
        Assert.True(container.Probes.TryGetValue(kind, out var probe), $"{where}: needs a {kind} probe on {path}");
        Assert.True(probe.Path == path, $"{where}: the {kind} probe should ask {path}, asks {probe.Path}");
    }

    /// <summary>
    /// The configuration a container's process would read (its environment, then its arguments). A value
    /// only the cluster knows (from a Secret, the pod's name) stands in as something of the right shape.
    /// </summary>
    private static IConfiguration ConfigurationOf(Dictionary<string, EnvValue> environment, ContainerSummary container)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var variable in environment.Values)
        {
            var key = variable.Name.Replace("__", ":", StringComparison.Ordinal);
            values[key] = variable.Literal ?? key switch
            {
                _ when key.EndsWith(":ConnectionString", StringComparison.OrdinalIgnoreCase) => "Host=stand-in;Database=stand-in;Username=stand-in",
                "Auth:SigningKey" => Convert.ToBase64String(new byte[32]),
                _ => "stand-in",
            };
        }
        foreach (var argument in Program(container).Arguments)
        {
            if (SettingArgument(argument) is var (key, value)) values[key] = value;
        }
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>Binds a section of the gateway's to its options class (loaded by reflection) and runs its Validate().</summary>
    private static void ValidateSection(IConfiguration configuration, string section)
    {
        var type = SettingsCatalog.Sections[section];
        var options = configuration.GetSection(section).Get(type, o => o.ErrorOnUnknownConfiguration = true) ?? SettingsCatalog.Defaults(section);
        try
        {
            type.GetMethod("Validate", Type.EmptyTypes)!.Invoke(options, null);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is InvalidOperationException inner)
        {
            ExceptionDispatchInfo.Throw(inner);
        }
    }

    [GeneratedRegex(@":(?<port>[0-9]+)/?(;|$)")]
    private static partial Regex UrlPort();

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)\b[^\n]*?-o (?<output>\S+)")]
    private static partial Regex Publish();

    [GeneratedRegex(@"^USER\s+(?<user>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex DockerUser();
}
