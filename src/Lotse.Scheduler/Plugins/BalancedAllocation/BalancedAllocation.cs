using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.BalancedAllocation;

/// <summary>Prefers nodes whose cpu and memory use stay close to each other after placing the pod (kube's NodeResourcesBalancedAllocation).</summary>
public sealed class BalancedAllocation : IScorePlugin
{
    public string Name => "NodeResourcesBalancedAllocation";

    public int Weight => 1;

    public long Score(PodInfo pod, NodeInfo node)
    {
        var allocatable = node.Allocatable;
        if (allocatable.MilliCpu <= 0 || allocatable.Memory <= 0)
        {
            return 0;
        }

        var cpu = Math.Min(1.0, (double)(node.NonZeroMilliCpu + pod.NonZeroMilliCpu) / allocatable.MilliCpu);
        var memory = Math.Min(1.0, (double)(node.NonZeroMemory + pod.NonZeroMemory) / allocatable.Memory);
        var deviation = Math.Abs(cpu - memory) / 2;
        return (long)((1 - deviation) * 100);
    }
}
