namespace Lotse.ApiServer.Patching;

/// <summary>How a list merges in a strategic merge patch: by a key, as a set of primitives, or replaced.</summary>
public sealed record ListStrategy(string? MergeKey, bool MergePrimitives);

/// <summary>
/// The patch metadata of built-in kinds (the <c>patchStrategy</c>/<c>patchMergeKey</c> tags of k8s.io/api),
/// looked up by the field path of a list (field names, list items skipped). Our own table of the lists
/// kubectl's patches touch; lists not in it are replaced, as kubernetes does for untagged lists.
/// </summary>
public sealed class PatchSchema
{
    private static readonly string[] PodSpecPrefixes = ["spec", "spec.template.spec", "spec.jobTemplate.spec.template.spec", "template.spec"];

    private readonly Dictionary<string, ListStrategy> _lists;

    private PatchSchema(Dictionary<string, ListStrategy> lists) => _lists = lists;

    public static PatchSchema Empty { get; } = new([]);

    public ListStrategy? ListAt(string path) => _lists.GetValueOrDefault(path);

    public static PatchSchema For(string group, string kind)
    {
        var lists = new Dictionary<string, ListStrategy>(StringComparer.Ordinal)
        {
            ["metadata.finalizers"] = new(null, true),
            ["metadata.ownerReferences"] = new("uid", false),
            ["status.conditions"] = new("type", false),
        };

        var podSpecs = (group, kind) switch
        {
            ("", "Pod") => ["spec"],
            ("", "PodTemplate") => ["template.spec"],
            ("", "ReplicationController") or ("apps", "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet") or ("batch", "Job") => ["spec.template.spec"],
            ("batch", "CronJob") => ["spec.jobTemplate.spec.template.spec"],
            _ => Array.Empty<string>(),
        };
        foreach (var spec in podSpecs.Where(PodSpecPrefixes.Contains))
        {
            AddPodSpec(lists, spec);
        }

        if (group.Length == 0 && kind == "Service")
        {
            lists["spec.ports"] = new("port", false);
        }

        if (group.Length == 0 && kind == "Node")
        {
            lists["status.addresses"] = new("type", false);
        }

        return new PatchSchema(lists);
    }

    private static void AddPodSpec(Dictionary<string, ListStrategy> lists, string spec)
    {
        foreach (var containers in (string[])["containers", "initContainers", "ephemeralContainers"])
        {
            var c = $"{spec}.{containers}";
            lists[c] = new("name", false);
            lists[$"{c}.ports"] = new("containerPort", false);
            lists[$"{c}.env"] = new("name", false);
            lists[$"{c}.volumeMounts"] = new("mountPath", false);
            lists[$"{c}.volumeDevices"] = new("devicePath", false);
            lists[$"{c}.resizePolicy"] = new("resourceName", false);
        }

        lists[$"{spec}.volumes"] = new("name", false);
        lists[$"{spec}.imagePullSecrets"] = new("name", false);
        lists[$"{spec}.hostAliases"] = new("ip", false);
        lists[$"{spec}.topologySpreadConstraints"] = new("topologyKey", false);
        lists[$"{spec}.schedulingGates"] = new("name", false);
        lists[$"{spec}.resourceClaims"] = new("name", false);
    }
}
