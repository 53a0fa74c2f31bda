namespace Lotse.Controllers.PodGc;

/// <summary>kube-controller-manager's pod GC settings (kube's defaults).</summary>
public sealed record PodGcOptions
{
    /// <summary>How often the collector looks (kube's gcCheckPeriod).</summary>
    public TimeSpan CheckPeriod { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Finished pods kept before the oldest go (--terminated-pod-gc-threshold; 0 turns this off).</summary>
    public int TerminatedPodThreshold { get; init; } = 12500;

    /// <summary>How long a node must be missing before its pods count as orphaned.</summary>
    public TimeSpan Quarantine { get; init; } = TimeSpan.FromSeconds(40);
}
