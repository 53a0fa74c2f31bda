using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.NodeName;

/// <summary>A pod that names a node (spec.nodeName set by hand but unbound here) fits only that node.</summary>
public sealed class NodeName : IFilterPlugin
{
    public string Name => "NodeName";

    public string? Filter(PodInfo pod, NodeInfo node) =>
        string.IsNullOrEmpty(pod.Pod.Spec?.NodeName) || pod.Pod.Spec.NodeName == node.Name ? null : "node(s) didn't match the requested node name";
}
