using k8s.Models;
using Lotse.Scheduler.Framework;

namespace Lotse.Controllers.DaemonSet;

/// <summary>
/// Where a DaemonSet's pods belong (kube's daemon_controller predicates and util): a node whose
/// labels match the template's node selector and required node affinity and whose taints the pod
/// tolerates — with the tolerations every daemon pod gets, so daemons keep running on nodes that
/// are not ready, unreachable, under pressure or cordoned. The default scheduler places the pod,
/// pinned to its node by a <c>metadata.name</c> node affinity.
/// </summary>
public static class DaemonPlacement
{
    private static readonly V1Toleration[] Automatic =
    [
        new() { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/disk-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/memory-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/pid-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/unschedulable", OperatorProperty = "Exists", Effect = "NoSchedule" },
    ];

    private static readonly V1Toleration NetworkUnavailable = new() { Key = "node.kubernetes.io/network-unavailable", OperatorProperty = "Exists", Effect = "NoSchedule" };

    /// <summary>The template's tolerations plus the automatic ones it does not have yet.</summary>
    public static List<V1Toleration> Tolerations(V1PodSpec spec)
    {
        var tolerations = new List<V1Toleration>(spec.Tolerations ?? []);
        foreach (var toleration in spec.HostNetwork == true ? [.. Automatic, NetworkUnavailable] : Automatic)
        {
            if (!tolerations.Any(t => t.Key == toleration.Key && t.Effect == toleration.Effect))
            {
                tolerations.Add(toleration);
            }
        }

        return tolerations;
    }

    /// <summary>
    /// Whether a daemon pod should run on <paramref name="node"/> (a new one may be placed there) and
    /// whether one already there may stay (only NoExecute taints push running daemons off).
    /// </summary>
    public static (bool ShouldRun, bool MayStay) Evaluate(V1Node node, V1PodSpec spec)
    {
        var probe = new V1Pod { Metadata = new V1ObjectMeta { Name = "probe", NamespaceProperty = "probe" }, Spec = new V1PodSpec { NodeSelector = spec.NodeSelector, Affinity = spec.Affinity, Containers = [] } };
        if (new Scheduler.Plugins.NodeAffinity.NodeAffinity().Filter(new PodInfo(probe), new NodeInfo(node)) is not null)
        {
            return (false, false);
        }

        var tolerations = Tolerations(spec);
        var taints = node.Spec?.Taints ?? [];
        var mayStay = taints.Where(t => t.Effect == "NoExecute").All(t => Scheduler.Plugins.TaintToleration.Tolerations.Tolerates(tolerations, t));
        var shouldRun = mayStay && taints.Where(t => t.Effect == "NoSchedule").All(t => Scheduler.Plugins.TaintToleration.Tolerations.Tolerates(tolerations, t));
        return (shouldRun, mayStay);
    }

    /// <summary>The node a daemon pod is meant for: its node name once bound, else the node its affinity pins it to.</summary>
    public static string? TargetNode(V1Pod pod) =>
        !string.IsNullOrEmpty(pod.Spec?.NodeName)
            ? pod.Spec.NodeName
            : pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms?
                .SelectMany(t => t.MatchFields ?? [])
                .FirstOrDefault(f => f.Key == "metadata.name" && f.OperatorProperty == "In" && f.Values?.Count == 1)?.Values[0];

    /// <summary>The template's affinity with its required node terms replaced by one that names <paramref name="nodeName"/> (kube's ReplaceDaemonSetPodNodeNameNodeAffinity).</summary>
    public static V1Affinity PinTo(V1Affinity? affinity, string nodeName)
    {
        var pinned = new V1NodeSelector
        {
            NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [nodeName] }] }],
        };
        return new V1Affinity
        {
            PodAffinity = affinity?.PodAffinity,
            PodAntiAffinity = affinity?.PodAntiAffinity,
            NodeAffinity = new V1NodeAffinity
            {
                PreferredDuringSchedulingIgnoredDuringExecution = affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution,
                RequiredDuringSchedulingIgnoredDuringExecution = pinned,
            },
        };
    }
}
