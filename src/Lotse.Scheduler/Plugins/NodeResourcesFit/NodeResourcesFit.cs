using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.NodeResourcesFit;

/// <summary>
/// Filter: the pod's requests fit beside what the node's pods already ask for (cpu, memory,
/// ephemeral storage, pod count, extended resources). Score: LeastAllocated (kube's default) —
/// the more cpu and memory left after placing the pod, the better.
/// </summary>
public sealed class NodeResourcesFit : IFilterPlugin, IScorePlugin
{
    public string Name => "NodeResourcesFit";

    public int Weight => 1;

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        var allocatable = node.Allocatable;
        var requested = node.Requested;
        var want = pod.Requests;
        if (allocatable.Pods > 0 && node.PodCount + 1 > allocatable.Pods)
        {
            return "Too many pods";
        }

        if (want.MilliCpu > 0 && requested.MilliCpu + want.MilliCpu > allocatable.MilliCpu)
        {
            return "Insufficient cpu";
        }

        if (want.Memory > 0 && requested.Memory + want.Memory > allocatable.Memory)
        {
            return "Insufficient memory";
        }

        if (want.EphemeralStorage > 0 && requested.EphemeralStorage + want.EphemeralStorage > allocatable.EphemeralStorage)
        {
            return "Insufficient ephemeral-storage";
        }

        if (want.Extended.Count == 0)
        {
            return null; // the common case; enumerating an empty dictionary through its interface still allocates
        }

        foreach (var (name, amount) in want.Extended)
        {
            if (amount > 0 && requested.Extended.GetValueOrDefault(name) + amount > allocatable.Extended.GetValueOrDefault(name))
            {
                return $"Insufficient {name}";
            }
        }

        return null;
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        var allocatable = node.Allocatable;
        return (Free(node.NonZeroMilliCpu + pod.NonZeroMilliCpu, allocatable.MilliCpu) + Free(node.NonZeroMemory + pod.NonZeroMemory, allocatable.Memory)) / 2;
    }

    private static long Free(long used, long capacity) => capacity <= 0 || used > capacity ? 0 : (capacity - used) * 100 / capacity;
}
