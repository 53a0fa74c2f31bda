namespace Lotse.Scheduler.Framework;

/// <summary>
/// Looks at the whole cluster once per scheduling attempt, before the nodes are filtered: what it
/// works out (counts per topology domain, say) goes into <see cref="PodInfo.State"/> for its filter.
/// </summary>
public interface IPreFilterPlugin
{
    void PreFilter(PodInfo pod, IReadOnlyList<NodeInfo> nodes);
}

/// <summary>Decides whether a pod may run on a node: null when it may, else the reason (kube's wording, counted in FailedScheduling).</summary>
public interface IFilterPlugin
{
    string Name { get; }

    string? Filter(PodInfo pod, NodeInfo node);
}

/// <summary>Ranks the nodes that passed the filters: 0 (worst) to 100 (best), multiplied by the weight.</summary>
public interface IScorePlugin
{
    string Name { get; }

    int Weight { get; }

    /// <summary>Once per attempt, before scoring: a plugin whose scores are relative (normalized over the feasible nodes) works them out here.</summary>
    void PreScore(PodInfo pod, IReadOnlyList<NodeInfo> feasible, IReadOnlyList<NodeInfo> all)
    {
    }

    long Score(PodInfo pod, NodeInfo node);
}
