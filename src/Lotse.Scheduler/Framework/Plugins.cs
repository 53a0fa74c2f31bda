namespace Lotse.Scheduler.Framework;

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

    long Score(PodInfo pod, NodeInfo node);
}
