namespace Lotse.ApiServer.Registry;

/// <summary>
/// The built-in resources Lotse serves, with the names, short names, categories, verbs and
/// subresources kube-apiserver 1.33 advertises for them (facts from its discovery documents).
/// Strategies and table printers are attached by <see cref="ResourceRegistry"/>.
/// </summary>
public static class BuiltInResources
{
    private static readonly string[] All = ["all"];
    private static readonly string[] Crud = [.. ResourceDefinition.StandardVerbs];
    private static readonly string[] CreateOnly = ["create"];

    private static ResourceDefinition R(
        string group, string version, string kind, string plural, bool namespaced,
        string[]? shortNames = null, string[]? categories = null, SubresourceDefinition[]? subresources = null,
        string[]? fields = null, string[]? verbs = null, string? singular = null, bool stored = true) => new()
        {
            Group = group,
            Version = version,
            Kind = kind,
            Plural = plural,
            Singular = singular ?? kind.ToLowerInvariant(),
            Namespaced = namespaced,
            ShortNames = shortNames ?? [],
            Categories = categories ?? [],
            Subresources = subresources ?? [],
            SelectableFields = fields ?? [],
            Verbs = verbs ?? Crud,
            Stored = stored,
        };

    private static readonly SubresourceDefinition Status = SubresourceDefinition.Status;
    private static readonly SubresourceDefinition Scale = SubresourceDefinition.Scale;

    public static IReadOnlyList<ResourceDefinition> Create() =>
    [
        // core/v1
        R("", "v1", "Binding", "bindings", true, verbs: CreateOnly, stored: false),
        R("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
        R("", "v1", "Endpoints", "endpoints", true, ["ep"], singular: "endpoints"),
        R("", "v1", "Event", "events", true, ["ev"], fields:
        [
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
            "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
            "reason", "reportingComponent", "source", "type",
        ]),
        R("", "v1", "LimitRange", "limitranges", true, ["limits"]),
        R("", "v1", "Namespace", "namespaces", false, ["ns"], subresources:
        [
            new("finalize", ["update"]), Status,
        ], fields: ["status.phase"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
        R("", "v1", "Node", "nodes", false, ["no"], subresources:
        [
            new("proxy", ["create", "delete", "get", "patch", "update"], Kind: "NodeProxyOptions"), Status,
        ], fields: ["spec.unschedulable"]),
        R("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], subresources: [Status]),
        R("", "v1", "PersistentVolume", "persistentvolumes", false, ["pv"], subresources: [Status]),
        R("", "v1", "Pod", "pods", true, ["po"], All, subresources:
        [
            new("attach", ["create", "get"], Kind: "PodAttachOptions"),
            new("binding", CreateOnly, Kind: "Binding"),
            new("ephemeralcontainers", ["get", "patch", "update"]),
            new("eviction", CreateOnly, "policy", "v1", "Eviction"),
            new("exec", ["create", "get"], Kind: "PodExecOptions"),
            new("log", ["get"]),
            new("portforward", ["create", "get"], Kind: "PodPortForwardOptions"),
            new("proxy", ["create", "delete", "get", "patch", "update"], Kind: "PodProxyOptions"),
            new("resize", ["get", "patch", "update"]),
            Status,
        ], fields:
        [
            "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
        ]),
        R("", "v1", "PodTemplate", "podtemplates", true),
        R("", "v1", "ReplicationController", "replicationcontrollers", true, ["rc"], All, [Scale, Status], ["status.replicas"]),
        R("", "v1", "ResourceQuota", "resourcequotas", true, ["quota"], subresources: [Status]),
        R("", "v1", "Secret", "secrets", true, fields: ["type"]),
        R("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"], subresources:
        [
            new("token", CreateOnly, "authentication.k8s.io", "v1", "TokenRequest"),
        ]),
        R("", "v1", "Service", "services", true, ["svc"], All, subresources:
        [
            new("proxy", ["create", "delete", "get", "patch", "update"], Kind: "ServiceProxyOptions"), Status,
        ], fields: ["spec.clusterIP", "spec.type"]),

        // apiextensions.k8s.io/v1
        R("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, ["crd", "crds"], ["api-extensions"], [Status]),

        // apps/v1
        R("apps", "v1", "ControllerRevision", "controllerrevisions", true),
        R("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"], All, [Status]),
        R("apps", "v1", "Deployment", "deployments", true, ["deploy"], All, [Scale, Status]),
        R("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], All, [Scale, Status], ["status.replicas"]),
        R("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"], All, [Scale, Status]),

        // autoscaling
        R("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, ["hpa"], All, [Status]),
        R("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, ["hpa"], All, [Status]) with
        {
            // v1 is a view of the v2 objects (kubectl autoscale before 1.33 writes v1).
            Conversion = new Conversion.HorizontalPodAutoscalerV1(),
        },

        // authentication.k8s.io and authorization.k8s.io: reviews, answered and not stored
        R("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false, verbs: CreateOnly, stored: false),
        R("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, verbs: CreateOnly, stored: false),
        R("authentication.k8s.io", "v1beta1", "SelfSubjectReview", "selfsubjectreviews", false, verbs: CreateOnly, stored: false),
        R("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", true, verbs: CreateOnly, stored: false),
        R("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, verbs: CreateOnly, stored: false),
        R("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false, verbs: CreateOnly, stored: false),
        R("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, verbs: CreateOnly, stored: false),

        // batch/v1
        R("batch", "v1", "CronJob", "cronjobs", true, ["cj"], All, [Status]),
        R("batch", "v1", "Job", "jobs", true, categories: All, subresources: [Status], fields: ["status.successful"]),

        // coordination.k8s.io/v1
        R("coordination.k8s.io", "v1", "Lease", "leases", true),

        // discovery.k8s.io/v1
        R("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),

        // events.k8s.io/v1
        R("events.k8s.io", "v1", "Event", "events", true, ["ev"]),

        // networking.k8s.io/v1
        R("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false),
        R("networking.k8s.io", "v1", "Ingress", "ingresses", true, ["ing"], subresources: [Status]),
        R("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"]),

        // policy/v1
        R("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, ["pdb"], subresources: [Status]),

        // rbac.authorization.k8s.io/v1
        R("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
        R("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
        R("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
        R("rbac.authorization.k8s.io", "v1", "Role", "roles", true),

        // scheduling.k8s.io/v1
        R("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, ["pc"]),

        // storage.k8s.io/v1
        R("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, ["sc"]),
    ];

    /// <summary>
    /// Group order for discovery, as kube-apiserver lists them (kubectl resolves a short name to the
    /// first group that has it, so "events" means core/v1 events).
    /// </summary>
    public static IReadOnlyList<string> GroupOrder { get; } =
    [
        "", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch",
        "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
        "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
        "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io",
    ];
}
