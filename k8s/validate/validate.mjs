// Validates the Kubernetes manifests offline, against the Kubernetes schemas that the kubernetes-models
// package ships, then prints one JSON summary of what they say (names, labels, containers, env, ports,
// probes, Services, Ingress, PodDisruptionBudgets, HorizontalPodAutoscalers, RBAC) on stdout, for
// Tests/Deployment/ManifestTests.cs to check against the code's own settings.
//
//   node k8s/validate/validate.mjs [DIR]     DIR defaults to k8s/ (this file's parent folder)
//
// Exit code 0: every document is valid. 1: the errors are on stderr (and nothing on stdout).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const dir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
const errors = [];
const documents = [];
let kustomization = null;

const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
if (files.length === 0) errors.push(`${dir}: no .yaml files`);

for (const file of files) {
  const parsed = parseAllDocuments(readFileSync(join(dir, file), "utf8"), { prettyErrors: true });
  if (!Array.isArray(parsed)) {
    errors.push(`${file}: not a YAML stream`);
    continue;
  }
  for (const [index, doc] of parsed.entries()) {
    const where = `${file} (document ${index + 1})`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push(`${where}: ${e.message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue; // an empty document, e.g. after a trailing ---
    if (typeof object !== "object" || Array.isArray(object)) {
      errors.push(`${where}: not a mapping`);
      continue;
    }
    if (object.kind === "Kustomization") {
      const problem = checkKustomization(object, file);
      if (problem) errors.push(`${where}: ${problem}`);
      else kustomization = summariseKustomization(object, file);
      continue;
    }
    const Model = await modelOf(object.apiVersion, object.kind);
    if (typeof Model === "string") {
      errors.push(`${where}: ${Model}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (e) {
      errors.push(`${where}: ${object.kind} ${object.metadata?.name ?? "(no name)"}: ${describe(e)}`);
      continue;
    }
    documents.push(summarise(object, file, index));
  }
}

const seen = new Set();
for (const d of documents) {
  const key = `${d.apiVersion} ${d.kind} ${d.name}`;
  if (seen.has(key)) errors.push(`${d.file}: ${d.kind} ${d.name} is defined twice`);
  seen.add(key);
}

if (errors.length > 0) {
  process.stderr.write(`manifests in ${dir} are not valid:\n${errors.map((e) => `  ${e}`).join("\n")}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify({ directory: dir, files, kustomization, documents }, null, 2) + "\n");

// The kubernetes-models class for apiVersion + kind, or a message saying why there is none.
async function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return "apiVersion and kind must be set";
  // Only names that can be a module of the package: "v1", "apps/v1", "networking.k8s.io/v1".
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return `unknown apiVersion/kind ${apiVersion}/${kind}`;
  }
  let module;
  try {
    module = await import(`kubernetes-models/${apiVersion}/${kind}`);
  } catch (e) {
    if (e?.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e?.code === "ERR_MODULE_NOT_FOUND") {
      return `unknown apiVersion/kind ${apiVersion}/${kind}: kubernetes-models has no such resource`;
    }
    throw e;
  }
  const Model = module[kind];
  // Nested types (v1/Container, …) have modules too, but no apiVersion/kind of their own.
  if (typeof Model !== "function" || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    return `unknown apiVersion/kind ${apiVersion}/${kind}: not a resource kind`;
  }
  return Model;
}

function describe(e) {
  if (Array.isArray(e?.errors) && e.errors.length > 0) {
    return e.errors.map((x) => `${x.instancePath || "/"} ${x.message}${x.params ? ` ${JSON.stringify(x.params)}` : ""}`).join("; ");
  }
  return e?.message ?? String(e);
}

function checkKustomization(k, file) {
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1") return `Kustomization must have apiVersion kustomize.config.k8s.io/v1beta1, has ${k.apiVersion}`;
  if (!Array.isArray(k.resources) || k.resources.some((r) => typeof r !== "string")) return "resources must be a list of file names";
  const missing = k.resources.filter((r) => !files.includes(r));
  if (missing.length > 0) return `resources names files that are not in ${dir}: ${missing.join(", ")}`;
  if (k.resources.includes(file)) return "resources must not list the kustomization itself";
  return null;
}

function summariseKustomization(k, file) {
  return {
    file,
    namespace: k.namespace ?? null,
    resources: k.resources,
    images: (k.images ?? []).map((i) => ({ name: i.name, newName: i.newName ?? null, newTag: i.newTag ?? null })),
  };
}

// What the C# test needs of one valid document.
function summarise(o, file, index) {
  const meta = o.metadata ?? {};
  const d = {
    file,
    index,
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: meta.name ?? null,
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
  };
  const spec = o.spec ?? {};
  switch (o.kind) {
    case "ConfigMap":
      d.data = o.data ?? {};
      break;
    case "Secret":
      // Names only: a real Secret's values have no business in a test's output.
      d.keys = [...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {})];
      break;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
      d.replicas = spec.replicas ?? null;
      d.selector = spec.selector?.matchLabels ?? {};
      d.selectorExpressions = spec.selector?.matchExpressions?.length ?? 0;
      d.pod = pod(spec.template);
      break;
    case "Job":
      d.pod = pod(spec.template);
      break;
    case "CronJob":
      d.pod = pod(spec.jobTemplate?.spec?.template);
      break;
    case "Pod":
      d.pod = pod(o);
      break;
    case "Service":
      d.service = {
        type: spec.type ?? "ClusterIP",
        clusterIP: spec.clusterIP ?? null,
        selector: spec.selector ?? {},
        ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? null, port: p.port, targetPort: String(p.targetPort ?? p.port), protocol: p.protocol ?? "TCP" })),
      };
      break;
    case "Ingress":
      d.ingress = {
        className: spec.ingressClassName ?? null,
        tlsHosts: (spec.tls ?? []).flatMap((t) => t.hosts ?? []),
        backends: [
          ...(spec.defaultBackend ? [backend(null, null, null, spec.defaultBackend)] : []),
          ...(spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => backend(r.host ?? null, p.path ?? null, p.pathType ?? null, p.backend))),
        ],
      };
      break;
    case "PodDisruptionBudget":
      d.budget = {
        selector: spec.selector?.matchLabels ?? {},
        selectorExpressions: spec.selector?.matchExpressions?.length ?? 0,
        maxUnavailable: spec.maxUnavailable === undefined ? null : String(spec.maxUnavailable),
        minAvailable: spec.minAvailable === undefined ? null : String(spec.minAvailable),
      };
      break;
    case "HorizontalPodAutoscaler":
      d.autoscaler = {
        target: { apiVersion: spec.scaleTargetRef?.apiVersion ?? null, kind: spec.scaleTargetRef?.kind, name: spec.scaleTargetRef?.name },
        minReplicas: spec.minReplicas ?? 1,
        maxReplicas: spec.maxReplicas,
        resources: (spec.metrics ?? []).filter((m) => m.type === "Resource").map((m) => m.resource.name),
      };
      break;
    case "Role":
    case "ClusterRole":
      d.rules = (o.rules ?? []).map((r) => ({ apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], verbs: r.verbs ?? [] }));
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      d.roleRef = { kind: o.roleRef.kind, name: o.roleRef.name };
      d.subjects = (o.subjects ?? []).map((s) => ({ kind: s.kind, name: s.name, namespace: s.namespace ?? null }));
      break;
  }
  return d;
}

function backend(host, path, pathType, b) {
  return {
    host,
    path,
    pathType,
    service: b?.service?.name ?? null,
    port: b?.service?.port?.name ?? (b?.service?.port?.number === undefined ? null : String(b.service.port.number)),
  };
}

function pod(template) {
  const meta = template?.metadata ?? {};
  const spec = template?.spec ?? {};
  return {
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    runAsNonRoot: spec.securityContext?.runAsNonRoot ?? null,
    serviceAccountName: spec.serviceAccountName ?? null,
    automountServiceAccountToken: spec.automountServiceAccountToken ?? null,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? null,
    restartPolicy: spec.restartPolicy ?? null,
    initContainers: (spec.initContainers ?? []).map(container),
    containers: (spec.containers ?? []).map(container),
  };
}

function container(c) {
  return {
    name: c.name,
    image: c.image ?? null,
    command: c.command ?? [],
    args: c.args ?? [],
    envFrom: (c.envFrom ?? []).map((e) => ({
      kind: e.configMapRef ? "ConfigMap" : "Secret",
      name: (e.configMapRef ?? e.secretRef).name,
      prefix: e.prefix ?? "",
      optional: (e.configMapRef ?? e.secretRef).optional ?? false,
    })),
    env: (c.env ?? []).map(envVar),
    ports: (c.ports ?? []).map((p) => ({ name: p.name ?? null, containerPort: p.containerPort, protocol: p.protocol ?? "TCP" })),
    probes: Object.fromEntries(
      ["startupProbe", "readinessProbe", "livenessProbe"].filter((k) => c[k]).map((k) => [k.replace("Probe", ""), probe(c[k])]),
    ),
    preStop: handler(c.lifecycle?.preStop),
    resources: { requests: c.resources?.requests ?? {}, limits: c.resources?.limits ?? {} },
  };
}

function envVar(e) {
  if (e.valueFrom === undefined) return { name: e.name, value: e.value ?? "" };
  const v = e.valueFrom;
  if (v.fieldRef) return { name: e.name, from: { kind: "fieldRef", path: v.fieldRef.fieldPath } };
  if (v.secretKeyRef) return { name: e.name, from: { kind: "secretKeyRef", name: v.secretKeyRef.name, key: v.secretKeyRef.key } };
  if (v.configMapKeyRef) return { name: e.name, from: { kind: "configMapKeyRef", name: v.configMapKeyRef.name, key: v.configMapKeyRef.key } };
  if (v.resourceFieldRef) return { name: e.name, from: { kind: "resourceFieldRef", path: v.resourceFieldRef.resource } };
  return { name: e.name, from: { kind: Object.keys(v)[0] ?? "unknown" } };
}

function probe(p) {
  if (p.httpGet) return { type: "httpGet", path: p.httpGet.path ?? "/", port: String(p.httpGet.port), periodSeconds: p.periodSeconds ?? 10, failureThreshold: p.failureThreshold ?? 3, timeoutSeconds: p.timeoutSeconds ?? 1 };
  if (p.tcpSocket) return { type: "tcpSocket", path: null, port: String(p.tcpSocket.port) };
  if (p.grpc) return { type: "grpc", path: null, port: String(p.grpc.port) };
  return { type: "exec", path: null, port: null };
}

// A preStop hook, and how long it sleeps when it is a plain sleep (exec "sleep N" or the sleep action).
function handler(h) {
  if (!h) return null;
  if (h.sleep) return { type: "sleep", sleepSeconds: h.sleep.seconds };
  if (h.exec) {
    const command = h.exec.command ?? [];
    const sleeps = command.length === 2 && /^(\/bin\/|\/usr\/bin\/)?sleep$/.test(command[0]) && /^[0-9]+$/.test(command[1]);
    return { type: "exec", command, sleepSeconds: sleeps ? Number(command[1]) : null };
  }
  return { type: h.httpGet ? "httpGet" : "tcpSocket", sleepSeconds: null };
}
