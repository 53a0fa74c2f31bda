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
        if (node.Node.Spec?.Taints is not { Count: > 0 } taints)
        {
            return null; // most nodes: no closure or enumerator per pod and node
        }

        foreach (var taint in taints)
        {
            if (taint.Effect is "NoSchedule" or "NoExecute" && !Tolerations.Tolerates(pod.Pod.Spec?.Tolerations, taint))
            {
                return $"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}";
            }
        }

        return null;
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        if (node.Node.Spec?.Taints is not { Count: > 0 } taints)
        {
            return 100;
        }

        var untolerated = 0;
        foreach (var taint in taints)
        {
            if (taint.Effect == "PreferNoSchedule" && !Tolerations.Tolerates(pod.Pod.Spec?.Tolerations, taint))
            {
                untolerated++;
            }
        }

        return Math.Max(0, 100 - (untolerated * 10));
    }
}
