using Lotse.Scheduler.Framework;
using Lotse.Scheduler.Plugins.TaintToleration;

namespace Lotse.Scheduler.Plugins.NodeUnschedulable;

/// <summary>A cordoned node (spec.unschedulable) takes only pods that tolerate <c>node.kubernetes.io/unschedulable:NoSchedule</c>.</summary>
public sealed class NodeUnschedulable : IFilterPlugin
{
    public string Name => "NodeUnschedulable";

    public string? Filter(PodInfo pod, NodeInfo node) =>
        node.Node.Spec?.Unschedulable != true
        || Tolerations.Tolerates(pod.Pod.Spec?.Tolerations, new k8s.Models.V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" })
            ? null
            : "node(s) were unschedulable";
}
