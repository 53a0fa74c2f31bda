using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.TaintToleration;

/// <summary>
/// Filter: a NoSchedule or NoExecute taint the pod does not tolerate keeps it off the node.
/// Score: fewer untolerated PreferNoSchedule taints score higher.
/// </summary>
public sealed class TaintToleration : IFilterPlugin, IScorePlugin
{
    public string Name => "TaintToleration";

    public int Weight => 3;

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        var taint = node.Node.Spec?.Taints?.FirstOrDefault(t => t.Effect is "NoSchedule" or "NoExecute" && !Tolerations.Tolerates(pod.Pod.Spec?.Tolerations, t));
        return taint is null ? null : $"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}";
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        var untolerated = node.Node.Spec?.Taints?.Count(t => t.Effect == "PreferNoSchedule" && !Tolerations.Tolerates(pod.Pod.Spec?.Tolerations, t)) ?? 0;
        return Math.Max(0, 100 - (untolerated * 10));
    }
}
