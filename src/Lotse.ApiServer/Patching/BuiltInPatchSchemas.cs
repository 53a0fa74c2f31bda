using System.Collections.Frozen;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// Our table of the <c>patchStrategy</c>/<c>patchMergeKey</c> struct tags of k8s.io/api (and ObjectMeta in
/// apimachinery) for the built-in kinds clients patch. Only tagged fields and the fields above them are
/// listed; everything else is untagged (lists replaced). Notably untagged, so replaced: tolerations,
/// readinessGates, envFrom, resizePolicy, args/command, node taints, Endpoints subsets, Service
/// externalIPs/clusterIPs, container statuses.
/// </summary>
internal static class BuiltInPatchSchemas
{
    /// <summary>ObjectMeta's tags, which every kind (custom resources too) embeds as <c>metadata</c>.</summary>
    internal static readonly PatchSchema ObjectMeta = Fields(Set("finalizers"), MergeBy("ownerReferences", "uid"));

    // Container and EphemeralContainerCommon carry the same tags.
    private static readonly PatchSchema Container = Fields(
        MergeBy("ports", "containerPort"),
        MergeBy("env", "name"),
        MergeBy("volumeMounts", "mountPath"),
        MergeBy("volumeDevices", "devicePath"));

    private static readonly PatchSchema PodSpec = Fields(
        MergeBy("containers", "name", Container),
        MergeBy("initContainers", "name", Container),
        MergeBy("ephemeralContainers", "name", Container),
        MergeBy("volumes", "name", retainKeys: true),
        MergeBy("imagePullSecrets", "name"),
        MergeBy("hostAliases", "ip"),
        // The list-map key is topologyKey+whenUnsatisfiable, but the patch merge key is topologyKey alone.
        MergeBy("topologySpreadConstraints", "topologyKey"),
        MergeBy("schedulingGates", "name"),
        MergeBy("resourceClaims", "name", retainKeys: true));

    private static readonly PatchSchema PodTemplateSpec = Fields(Nested("metadata", ObjectMeta), Nested("spec", PodSpec));

    private static readonly (string, PatchField) Conditions = MergeBy("conditions", "type");

    private static readonly (string, PatchField) StatusConditions = Nested("status", Fields(Conditions));

    private static readonly (string, PatchField) SpecTemplate = Nested("spec", Fields(Nested("template", PodTemplateSpec)));

    private static readonly PatchSchema Webhook = Fields(MergeBy("matchConditions", "name"));

    private static readonly FrozenDictionary<(string Group, string Kind), PatchSchema> Kinds = new Dictionary<(string, string), PatchSchema>
    {
        [("", "Pod")] = Kind(
            Nested("spec", PodSpec),
            Nested("status", Fields(
                Conditions,
                MergeBy("podIPs", "ip"),
                MergeBy("hostIPs", "ip"),
                MergeBy("resourceClaimStatuses", "name", retainKeys: true)))),
        [("", "PodTemplate")] = Kind(Nested("template", PodTemplateSpec)),
        [("", "ReplicationController")] = Kind(SpecTemplate, StatusConditions),
        [("", "Service")] = Kind(Nested("spec", Fields(MergeBy("ports", "port"))), StatusConditions),
        [("", "Node")] = Kind(
            Nested("spec", Fields(Set("podCIDRs"))),
            Nested("status", Fields(Conditions, MergeBy("addresses", "type")))),
        [("", "Namespace")] = Kind(StatusConditions),
        [("", "PersistentVolumeClaim")] = Kind(StatusConditions),
        [("", "ServiceAccount")] = Kind(MergeBy("secrets", "name")),
        [("", "ComponentStatus")] = Kind(Conditions),
        [("apps", "Deployment")] = Kind(
            Nested("spec", Fields(Nested("template", PodTemplateSpec), RetainKeys("strategy"))),
            StatusConditions),
        [("apps", "ReplicaSet")] = Kind(SpecTemplate, StatusConditions),
        [("apps", "StatefulSet")] = Kind(SpecTemplate, StatusConditions),
        [("apps", "DaemonSet")] = Kind(SpecTemplate, StatusConditions),
        [("batch", "Job")] = Kind(SpecTemplate, StatusConditions),
        [("batch", "CronJob")] = Kind(Nested("spec", Fields(Nested("jobTemplate", Fields(
            Nested("metadata", ObjectMeta),
            Nested("spec", Fields(Nested("template", PodTemplateSpec)))))))),
        [("autoscaling", "HorizontalPodAutoscaler")] = Kind(StatusConditions),
        [("policy", "PodDisruptionBudget")] = Kind(Nested("spec", Fields(ReplaceMap("selector"))), StatusConditions),
        [("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")] = Kind(MergeBy("webhooks", "name", Webhook)),
        [("admissionregistration.k8s.io", "MutatingWebhookConfiguration")] = Kind(MergeBy("webhooks", "name", Webhook)),
        [("admissionregistration.k8s.io", "ValidatingAdmissionPolicy")] = Kind(
            Nested("spec", Fields(MergeBy("matchConditions", "name"), MergeBy("variables", "name")))),
        [("admissionregistration.k8s.io", "MutatingAdmissionPolicy")] = Kind(Nested("spec", Fields(MergeBy("matchConditions", "name")))),
        [("storage.k8s.io", "CSINode")] = Kind(Nested("spec", Fields(MergeBy("drivers", "name")))),
        [("networking.k8s.io", "ServiceCIDR")] = Kind(StatusConditions),
        [("flowcontrol.apiserver.k8s.io", "FlowSchema")] = Kind(StatusConditions),
        [("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration")] = Kind(StatusConditions),
        [("resource.k8s.io", "ResourceClaim")] = Kind(Nested("status", Fields(MergeBy("reservedFor", "uid")))),
    }.ToFrozenDictionary();

    /// <summary>Groups whose kinds are compiled into kube-apiserver (and so have struct tags); custom resources never do.</summary>
    private static readonly FrozenSet<string> BuiltInGroups = FrozenSet.ToFrozenSet(
    [
        "", "apps", "batch", "autoscaling", "policy", "admissionregistration.k8s.io", "apiextensions.k8s.io",
        "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io",
        "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "rbac.authorization.k8s.io",
        "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
    ], StringComparer.Ordinal);

    private static readonly PatchSchema MetadataOnly = Kind();

    /// <summary>Whether a group's kinds are compiled into kube-apiserver (custom resources' groups are not).</summary>
    public static bool IsBuiltInGroup(string group) => BuiltInGroups.Contains(group);

    public static PatchSchema For(string group, string kind) =>
        Kinds.TryGetValue((group, kind), out var schema) ? schema
        : BuiltInGroups.Contains(group) ? MetadataOnly
        : PatchSchema.Empty;

    private static PatchSchema Kind(params (string, PatchField)[] fields) => Fields([Nested("metadata", ObjectMeta), .. fields]);

    private static PatchSchema Fields(params (string Name, PatchField Field)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Field)));

    private static (string, PatchField) Nested(string name, PatchSchema schema) => (name, new PatchField(PatchStrategy.None, null, schema));

    private static (string, PatchField) MergeBy(string name, string mergeKey, PatchSchema? items = null, bool retainKeys = false) =>
        (name, new PatchField(PatchStrategy.Merge | (retainKeys ? PatchStrategy.RetainKeys : PatchStrategy.None), mergeKey, items ?? PatchSchema.Empty));

    private static (string, PatchField) Set(string name) => (name, new PatchField(PatchStrategy.Merge, null, PatchSchema.Empty));

    private static (string, PatchField) RetainKeys(string name) => (name, new PatchField(PatchStrategy.RetainKeys, null, PatchSchema.Empty));

    private static (string, PatchField) ReplaceMap(string name) => (name, new PatchField(PatchStrategy.Replace, null, PatchSchema.Empty));
}
