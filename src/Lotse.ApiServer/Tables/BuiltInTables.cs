using System.Globalization;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tables;

/// <summary>
/// The server-side printers of the built-in kinds: kubernetes' column names, types and priorities
/// (pkg/printers/internalversion), with cells computed by our own code.
/// </summary>
public static class BuiltInTables
{
    private delegate object? Cell(JsonObject o, DateTimeOffset now);

    private static (TableColumn, Func<JsonObject, DateTimeOffset, object?>) C(string name, string type, Cell cell, int priority = 0, string description = "") =>
        (new TableColumn(name, type, description, priority), (o, n) => cell(o, n));

    private static (TableColumn, Func<JsonObject, DateTimeOffset, object?>) NameColumn() =>
        (new TableColumn("Name", "string", Describe.Name, 0, "name"), (o, _) => J.Str(o, "metadata.name"));

    private static (TableColumn, Func<JsonObject, DateTimeOffset, object?>) AgeColumn() =>
        (new TableColumn("Age", "string", Describe.Age), (o, n) => J.Age(o, n));

    private static ITableConvertor T(params (TableColumn, Func<JsonObject, DateTimeOffset, object?>)[] columns) => new ColumnsConvertor(columns);

    /// <summary>The wide columns of pod controllers: the template's containers and images, and the selector.</summary>
    private static (TableColumn, Func<JsonObject, DateTimeOffset, object?>)[] TemplateColumns(string podSpecPath, string selectorPath) =>
    [
        C("Containers", "string", (o, _) => J.Containers(J.At(o, podSpecPath)), 1),
        C("Images", "string", (o, _) => J.Images(J.At(o, podSpecPath)), 1),
        C("Selector", "string", (o, _) => J.Selector(J.At(o, selectorPath)), 1),
    ];

    private static readonly Dictionary<(string Group, string Kind), ITableConvertor> Tables = new()
    {
        [("", "Pod")] = T(
            NameColumn(),
            C("Ready", "string", (o, _) => PodTable.Ready(o)),
            C("Status", "string", (o, _) => PodTable.Status(o)),
            C("Restarts", "string", (o, n) => PodTable.Restarts(o, n)),
            AgeColumn(),
            C("IP", "string", (o, _) => J.OrNone(J.Str(o, "status.podIP")), 1),
            C("Node", "string", (o, _) => J.OrNone(J.Str(o, "spec.nodeName")), 1),
            C("Nominated Node", "string", (o, _) => J.OrNone(J.Str(o, "status.nominatedNodeName")), 1),
            C("Readiness Gates", "string", (o, _) => PodTable.ReadinessGates(o), 1)),
        [("", "Namespace")] = T(NameColumn(), C("Status", "string", (o, _) => J.Str(o, "status.phase") ?? "Active"), AgeColumn()),
        [("", "Node")] = T(
            NameColumn(),
            C("Status", "string", (o, _) => NodeStatus(o)),
            C("Roles", "string", (o, _) => NodeRoles(o)),
            AgeColumn(),
            C("Version", "string", (o, _) => J.Str(o, "status.nodeInfo.kubeletVersion") ?? string.Empty),
            C("Internal-IP", "string", (o, _) => NodeAddress(o, "InternalIP"), 1),
            C("External-IP", "string", (o, _) => NodeAddress(o, "ExternalIP"), 1),
            C("OS-Image", "string", (o, _) => J.OrNone(J.Str(o, "status.nodeInfo.osImage")), 1),
            C("Kernel-Version", "string", (o, _) => J.OrNone(J.Str(o, "status.nodeInfo.kernelVersion")), 1),
            C("Container-Runtime", "string", (o, _) => J.OrNone(J.Str(o, "status.nodeInfo.containerRuntimeVersion")), 1)),
        [("", "Service")] = T(
            NameColumn(),
            C("Type", "string", (o, _) => J.Str(o, "spec.type") ?? "ClusterIP"),
            C("Cluster-IP", "string", (o, _) => J.OrNone(J.Str(o, "spec.clusterIP"))),
            C("External-IP", "string", (o, _) => ExternalIps(o)),
            C("Port(s)", "string", (o, _) => ServicePorts(o)),
            AgeColumn(),
            C("Selector", "string", (o, _) => J.Selector(J.At(o, "spec.selector")), 1)),
        [("", "Endpoints")] = T(NameColumn(), C("Endpoints", "string", (o, _) => EndpointsList(o)), AgeColumn()),
        [("", "ConfigMap")] = T(NameColumn(), C("Data", "integer", (o, _) => (long)((J.At(o, "data") as JsonObject)?.Count ?? 0) + ((J.At(o, "binaryData") as JsonObject)?.Count ?? 0)), AgeColumn()),
        [("", "Secret")] = T(NameColumn(), C("Type", "string", (o, _) => J.Str(o, "type") ?? "Opaque"), C("Data", "integer", (o, _) => (long)((J.At(o, "data") as JsonObject)?.Count ?? 0)), AgeColumn()),
        [("", "ServiceAccount")] = T(NameColumn(), C("Secrets", "string", (o, _) => J.Objects(o, "secrets").Count().ToString(CultureInfo.InvariantCulture)), AgeColumn()),
        [("", "PersistentVolumeClaim")] = T(
            NameColumn(),
            C("Status", "string", (o, _) => J.Str(o, "status.phase") ?? "Pending"),
            C("Volume", "string", (o, _) => J.Str(o, "spec.volumeName") ?? string.Empty),
            C("Capacity", "string", (o, _) => J.Str(o, "status.capacity.storage") ?? string.Empty),
            C("Access Modes", "string", (o, _) => AccessModes(J.Strings(o, "status.accessModes"))),
            C("StorageClass", "string", (o, _) => J.Str(o, "spec.storageClassName") ?? string.Empty),
            C("VolumeAttributesClass", "string", (o, _) => J.OrNone(J.Str(o, "spec.volumeAttributesClassName"))),
            AgeColumn(),
            C("VolumeMode", "string", (o, _) => J.Str(o, "spec.volumeMode") ?? "Filesystem", 1)),
        [("", "PersistentVolume")] = T(
            NameColumn(),
            C("Capacity", "string", (o, _) => J.Str(o, "spec.capacity.storage") ?? string.Empty),
            C("Access Modes", "string", (o, _) => AccessModes(J.Strings(o, "spec.accessModes"))),
            C("Reclaim Policy", "string", (o, _) => J.Str(o, "spec.persistentVolumeReclaimPolicy") ?? "Retain"),
            C("Status", "string", (o, _) => J.Str(o, "status.phase") ?? "Pending"),
            C("Claim", "string", (o, _) => J.Str(o, "spec.claimRef.name") is { } c ? $"{J.Str(o, "spec.claimRef.namespace")}/{c}" : string.Empty),
            C("StorageClass", "string", (o, _) => J.Str(o, "spec.storageClassName") ?? string.Empty),
            C("VolumeAttributesClass", "string", (o, _) => J.OrNone(J.Str(o, "spec.volumeAttributesClassName"))),
            C("Reason", "string", (o, _) => J.Str(o, "status.reason") ?? string.Empty),
            AgeColumn(),
            C("VolumeMode", "string", (o, _) => J.Str(o, "spec.volumeMode") ?? "Filesystem", 1)),
        [("", "Event")] = T(
            C("Last Seen", "string", (o, n) => HumanDuration.Since(J.Str(o, "lastTimestamp") ?? J.Str(o, "eventTime") ?? J.Str(o, "metadata.creationTimestamp"), n)),
            C("Type", "string", (o, _) => J.Str(o, "type") ?? string.Empty),
            C("Reason", "string", (o, _) => J.Str(o, "reason") ?? string.Empty),
            C("Object", "string", (o, _) => $"{J.Str(o, "involvedObject.kind")?.ToLowerInvariant()}/{J.Str(o, "involvedObject.name")}"),
            C("Subobject", "string", (o, _) => J.Str(o, "involvedObject.fieldPath") ?? string.Empty, 1),
            C("Source", "string", (o, _) => J.Str(o, "source.component") ?? J.Str(o, "reportingComponent") ?? string.Empty, 1),
            C("Message", "string", (o, _) => (J.Str(o, "message") ?? string.Empty).Trim()),
            C("First Seen", "string", (o, n) => HumanDuration.Since(J.Str(o, "firstTimestamp") ?? J.Str(o, "eventTime"), n), 1),
            C("Count", "string", (o, _) => Math.Max(1, J.Int(o, "count")).ToString(CultureInfo.InvariantCulture), 1),
            (new TableColumn("Name", "string", Describe.Name, 1, "name"), (o, _) => J.Str(o, "metadata.name"))),
        [("", "ReplicationController")] = T([
            NameColumn(),
            C("Desired", "integer", (o, _) => J.Int(o, "spec.replicas")),
            C("Current", "integer", (o, _) => J.Int(o, "status.replicas")),
            C("Ready", "integer", (o, _) => J.Int(o, "status.readyReplicas")),
            AgeColumn(),
            .. TemplateColumns("spec.template.spec", "spec.selector")]),
        [("", "ResourceQuota")] = T(NameColumn(), AgeColumn(), C("Request", "string", (o, _) => QuotaSummary(o, false)), C("Limit", "string", (o, _) => QuotaSummary(o, true))),
        [("apps", "Deployment")] = T([
            NameColumn(),
            C("Ready", "string", (o, _) => $"{J.Int(o, "status.readyReplicas")}/{J.Int(o, "spec.replicas")}"),
            C("Up-to-date", "integer", (o, _) => J.Int(o, "status.updatedReplicas")),
            C("Available", "integer", (o, _) => J.Int(o, "status.availableReplicas")),
            AgeColumn(),
            .. TemplateColumns("spec.template.spec", "spec.selector")]),
        [("apps", "ReplicaSet")] = T([
            NameColumn(),
            C("Desired", "integer", (o, _) => J.Int(o, "spec.replicas")),
            C("Current", "integer", (o, _) => J.Int(o, "status.replicas")),
            C("Ready", "integer", (o, _) => J.Int(o, "status.readyReplicas")),
            AgeColumn(),
            .. TemplateColumns("spec.template.spec", "spec.selector")]),
        [("apps", "StatefulSet")] = T(
            NameColumn(),
            C("Ready", "string", (o, _) => $"{J.Int(o, "status.readyReplicas")}/{J.Int(o, "spec.replicas")}"),
            AgeColumn(),
            C("Containers", "string", (o, _) => J.Containers(J.At(o, "spec.template.spec")), 1),
            C("Images", "string", (o, _) => J.Images(J.At(o, "spec.template.spec")), 1)),
        [("apps", "DaemonSet")] = T([
            NameColumn(),
            C("Desired", "integer", (o, _) => J.Int(o, "status.desiredNumberScheduled")),
            C("Current", "integer", (o, _) => J.Int(o, "status.currentNumberScheduled")),
            C("Ready", "integer", (o, _) => J.Int(o, "status.numberReady")),
            C("Up-to-date", "integer", (o, _) => J.Int(o, "status.updatedNumberScheduled")),
            C("Available", "integer", (o, _) => J.Int(o, "status.numberAvailable")),
            C("Node Selector", "string", (o, _) => J.At(o, "spec.template.spec.nodeSelector") is JsonObject s && s.Count > 0 ? string.Join(",", s.Select(kv => $"{kv.Key}={kv.Value}")) : "<none>"),
            AgeColumn(),
            .. TemplateColumns("spec.template.spec", "spec.selector")]),
        [("apps", "ControllerRevision")] = T(
            NameColumn(),
            C("Controller", "string", (o, _) => J.Objects(o, "metadata.ownerReferences").FirstOrDefault(r => J.Bool(r, "controller")) is { } r ? $"{J.Str(r, "kind")?.ToLowerInvariant()}.{J.Str(r, "apiVersion")?.Split('/')[0]}/{J.Str(r, "name")}" : "<none>"),
            C("Revision", "integer", (o, _) => J.Int(o, "revision")),
            AgeColumn()),
        [("batch", "Job")] = T([
            NameColumn(),
            C("Status", "string", (o, _) => JobStatus(o)),
            C("Completions", "string", (o, _) => $"{J.Int(o, "status.succeeded")}/{(J.At(o, "spec.completions") is null ? 1 : J.Int(o, "spec.completions"))}"),
            C("Duration", "string", (o, n) => JobDuration(o, n)),
            AgeColumn(),
            .. TemplateColumns("spec.template.spec", "spec.selector")]),
        [("batch", "CronJob")] = T([
            NameColumn(),
            C("Schedule", "string", (o, _) => J.Str(o, "spec.schedule") ?? string.Empty),
            C("Timezone", "string", (o, _) => J.OrNone(J.Str(o, "spec.timeZone"))),
            C("Suspend", "boolean", (o, _) => J.At(o, "spec.suspend") is null ? "<unset>" : J.Bool(o, "spec.suspend") ? "True" : "False"),
            C("Active", "integer", (o, _) => (long)J.Objects(o, "status.active").Count()),
            C("Last Schedule", "string", (o, n) => J.Str(o, "status.lastScheduleTime") is { } t ? HumanDuration.Since(t, n) : "<none>"),
            AgeColumn(),
            .. TemplateColumns("spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.selector")]),
        [("autoscaling", "HorizontalPodAutoscaler")] = T(
            NameColumn(),
            C("Reference", "string", (o, _) => $"{J.Str(o, "spec.scaleTargetRef.kind")}/{J.Str(o, "spec.scaleTargetRef.name")}"),
            C("Targets", "string", (o, _) => HpaTargets(o)),
            C("MinPods", "string", (o, _) => (J.At(o, "spec.minReplicas") is null ? 1 : J.Int(o, "spec.minReplicas")).ToString(CultureInfo.InvariantCulture)),
            C("MaxPods", "integer", (o, _) => J.Int(o, "spec.maxReplicas")),
            C("Replicas", "integer", (o, _) => J.Int(o, "status.currentReplicas")),
            AgeColumn()),
        [("coordination.k8s.io", "Lease")] = T(NameColumn(), C("Holder", "string", (o, _) => J.Str(o, "spec.holderIdentity") ?? string.Empty), AgeColumn()),
        [("discovery.k8s.io", "EndpointSlice")] = T(
            NameColumn(),
            C("AddressType", "string", (o, _) => J.Str(o, "addressType") ?? string.Empty),
            C("Ports", "string", (o, _) => J.Objects(o, "ports").Any() ? string.Join(",", J.Objects(o, "ports").Select(p => J.Int(p, "port").ToString(CultureInfo.InvariantCulture))) : "<unset>"),
            C("Endpoints", "string", (o, _) => Truncate(J.Objects(o, "endpoints").SelectMany(e => J.Strings(e, "addresses")).ToList())),
            AgeColumn()),
        [("networking.k8s.io", "Ingress")] = T(
            NameColumn(),
            C("Class", "string", (o, _) => J.OrNone(J.Str(o, "spec.ingressClassName"))),
            C("Hosts", "string", (o, _) => J.Objects(o, "spec.rules").Select(r => J.Str(r, "host")).Where(h => !string.IsNullOrEmpty(h)).DefaultIfEmpty("*").Aggregate((a, b) => $"{a},{b}")!),
            C("Address", "string", (o, _) => string.Join(",", J.Objects(o, "status.loadBalancer.ingress").Select(i => J.Str(i, "ip") ?? J.Str(i, "hostname")))),
            C("Ports", "string", (o, _) => J.Objects(o, "spec.tls").Any() ? "80, 443" : "80"),
            AgeColumn()),
        [("networking.k8s.io", "IngressClass")] = T(NameColumn(), C("Controller", "string", (o, _) => J.Str(o, "spec.controller") ?? string.Empty), C("Parameters", "string", (o, _) => J.At(o, "spec.parameters") is null ? "<none>" : $"{J.Str(o, "spec.parameters.kind")}/{J.Str(o, "spec.parameters.name")}"), AgeColumn()),
        [("networking.k8s.io", "NetworkPolicy")] = T(NameColumn(), C("Pod-Selector", "string", (o, _) => J.Selector(J.At(o, "spec.podSelector")) is "<none>" ? "<none>" : J.Selector(J.At(o, "spec.podSelector"))), AgeColumn()),
        [("policy", "PodDisruptionBudget")] = T(
            NameColumn(),
            C("Min Available", "string", (o, _) => J.Str(o, "spec.minAvailable") ?? "N/A"),
            C("Max Unavailable", "string", (o, _) => J.Str(o, "spec.maxUnavailable") ?? "N/A"),
            C("Allowed Disruptions", "integer", (o, _) => J.Int(o, "status.disruptionsAllowed")),
            AgeColumn()),
        [("rbac.authorization.k8s.io", "RoleBinding")] = BindingTable(),
        [("rbac.authorization.k8s.io", "ClusterRoleBinding")] = BindingTable(),
        [("storage.k8s.io", "StorageClass")] = T(
            (new TableColumn("Name", "string", Describe.Name, 0, "name"), (o, _) => J.At(o, "metadata.annotations") is JsonObject a && a["storageclass.kubernetes.io/is-default-class"]?.ToString() == "true" ? $"{J.Str(o, "metadata.name")} (default)" : J.Str(o, "metadata.name")),
            C("Provisioner", "string", (o, _) => J.Str(o, "provisioner") ?? string.Empty),
            C("ReclaimPolicy", "string", (o, _) => J.Str(o, "reclaimPolicy") ?? "Delete"),
            C("VolumeBindingMode", "string", (o, _) => J.Str(o, "volumeBindingMode") ?? "Immediate"),
            C("AllowVolumeExpansion", "string", (o, _) => J.Bool(o, "allowVolumeExpansion") ? "true" : "false"),
            AgeColumn()),
        [("scheduling.k8s.io", "PriorityClass")] = T(
            NameColumn(),
            C("Value", "integer", (o, _) => J.Int(o, "value")),
            C("Global-Default", "boolean", (o, _) => J.Bool(o, "globalDefault")),
            AgeColumn(),
            C("PreemptionPolicy", "string", (o, _) => J.Str(o, "preemptionPolicy") ?? "PreemptLowerPriority")),
    };

    public static ITableConvertor? For(string group, string version, string kind) => Tables.GetValueOrDefault((group, kind));

    private static ITableConvertor BindingTable() => T(
        NameColumn(),
        C("Role", "string", (o, _) => $"{J.Str(o, "roleRef.kind")}/{J.Str(o, "roleRef.name")}"),
        AgeColumn(),
        C("Users", "string", (o, _) => Subjects(o, "User"), 1),
        C("Groups", "string", (o, _) => Subjects(o, "Group"), 1),
        C("ServiceAccounts", "string", (o, _) => string.Join(", ", J.Objects(o, "subjects").Where(s => J.Str(s, "kind") == "ServiceAccount").Select(s => $"{J.Str(s, "namespace")}/{J.Str(s, "name")}")), 1));

    private static string Subjects(JsonObject o, string kind) => string.Join(", ", J.Objects(o, "subjects").Where(s => J.Str(s, "kind") == kind).Select(s => J.Str(s, "name")));

    private static string NodeStatus(JsonObject node)
    {
        var ready = J.Objects(node, "status.conditions").FirstOrDefault(c => J.Str(c, "type") == "Ready");
        var status = ready is null ? "Unknown" : J.Str(ready, "status") == "True" ? "Ready" : "NotReady";
        if (J.Bool(node, "spec.unschedulable"))
        {
            status += ",SchedulingDisabled";
        }

        return status;
    }

    private static string NodeRoles(JsonObject node)
    {
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        if (J.At(node, "metadata.labels") is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                if (key.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal) && key.Length > "node-role.kubernetes.io/".Length)
                {
                    roles.Add(key["node-role.kubernetes.io/".Length..]);
                }
                else if (key == "kubernetes.io/role" && value?.ToString() is { Length: > 0 } role)
                {
                    roles.Add(role);
                }
            }
        }

        return roles.Count == 0 ? "<none>" : string.Join(",", roles);
    }

    private static string NodeAddress(JsonObject node, string type) =>
        J.OrNone(J.Objects(node, "status.addresses").FirstOrDefault(a => J.Str(a, "type") == type) is { } a ? J.Str(a, "address") : null);

    private static string ExternalIps(JsonObject svc)
    {
        var type = J.Str(svc, "spec.type") ?? "ClusterIP";
        var external = J.Strings(svc, "spec.externalIPs").ToList();
        if (type == "ExternalName")
        {
            return J.Str(svc, "spec.externalName") ?? "<none>";
        }

        if (type == "LoadBalancer")
        {
            var ingress = J.Objects(svc, "status.loadBalancer.ingress").Select(i => J.Str(i, "ip") ?? J.Str(i, "hostname")).OfType<string>().ToList();
            external.AddRange(ingress);
            return external.Count > 0 ? string.Join(",", external) : "<pending>";
        }

        return external.Count > 0 ? string.Join(",", external) : "<none>";
    }

    private static string ServicePorts(JsonObject svc)
    {
        var ports = J.Objects(svc, "spec.ports").Select(p =>
        {
            var protocol = J.Str(p, "protocol") ?? "TCP";
            var port = J.Int(p, "port").ToString(CultureInfo.InvariantCulture);
            return J.At(p, "nodePort") is not null && J.Int(p, "nodePort") != 0 ? $"{port}:{J.Int(p, "nodePort")}/{protocol}" : $"{port}/{protocol}";
        }).ToList();
        return ports.Count == 0 ? "<none>" : string.Join(",", ports);
    }

    private static string EndpointsList(JsonObject ep)
    {
        var list = new List<string>();
        foreach (var subset in J.Objects(ep, "subsets"))
        {
            var ports = J.Objects(subset, "ports").Select(p => J.Int(p, "port")).DefaultIfEmpty(0).ToList();
            foreach (var address in J.Objects(subset, "addresses"))
            {
                list.AddRange(ports.Select(port => port == 0 ? J.Str(address, "ip")! : $"{J.Str(address, "ip")}:{port}"));
            }
        }

        return list.Count == 0 ? "<none>" : Truncate(list);
    }

    private static string Truncate(List<string> items) =>
        items.Count == 0 ? "<none>" : items.Count <= 3 ? string.Join(",", items) : $"{string.Join(",", items.Take(3))} + {items.Count - 3} more...";

    private static string AccessModes(IEnumerable<string> modes) => string.Join(",", modes.Select(m => m switch
    {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        _ => m,
    }));

    private static string QuotaSummary(JsonObject quota, bool limits)
    {
        var hard = J.At(quota, "status.hard") as JsonObject ?? J.At(quota, "spec.hard") as JsonObject;
        if (hard is null)
        {
            return string.Empty;
        }

        return string.Join(", ", hard.Where(kv => kv.Key.StartsWith("limits.", StringComparison.Ordinal) == limits)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}: {J.Str(quota, "status.used." + kv.Key) ?? "0"}/{kv.Value}"));
    }

    /// <summary>kube's printJob status: the decisive condition first, whatever order the conditions are in.</summary>
    private static string JobStatus(JsonObject job)
    {
        var conditions = J.Objects(job, "status.conditions").Where(c => J.Str(c, "status") == "True").Select(c => J.Str(c, "type")).ToHashSet(StringComparer.Ordinal);
        return conditions.Contains("Complete") ? "Complete"
            : conditions.Contains("Failed") ? "Failed"
            : J.At(job, "metadata.deletionTimestamp") is not null ? "Terminating"
            : conditions.Contains("Suspended") ? "Suspended"
            : conditions.Contains("FailureTarget") ? "FailureTarget"
            : conditions.Contains("SuccessCriteriaMet") ? "SuccessCriteriaMet"
            : "Running";
    }

    private static string JobDuration(JsonObject job, DateTimeOffset now)
    {
        if (!DateTimeOffset.TryParse(J.Str(job, "status.startTime"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start))
        {
            return string.Empty;
        }

        var end = DateTimeOffset.TryParse(J.Str(job, "status.completionTime"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var done) ? done : now;
        return HumanDuration.Format(end - start);
    }

    private static string HpaTargets(JsonObject hpa)
    {
        if (J.At(hpa, "spec.targetCPUUtilizationPercentage") is not null)
        {
            var current = J.At(hpa, "status.currentCPUUtilizationPercentage") is null ? "<unknown>" : $"{J.Int(hpa, "status.currentCPUUtilizationPercentage")}%";
            return $"cpu: {current}/{J.Int(hpa, "spec.targetCPUUtilizationPercentage")}%";
        }

        var metrics = J.Objects(hpa, "spec.metrics").Where(m => J.Str(m, "type") == "Resource").Select(m =>
        {
            var name = J.Str(m, "resource.name");
            var target = J.At(m, "resource.target.averageUtilization") is not null ? $"{J.Int(m, "resource.target.averageUtilization")}%" : J.Str(m, "resource.target.averageValue") ?? "?";
            return $"{name}: <unknown>/{target}";
        }).ToList();
        return metrics.Count == 0 ? "<none>" : string.Join(", ", metrics);
    }
}
