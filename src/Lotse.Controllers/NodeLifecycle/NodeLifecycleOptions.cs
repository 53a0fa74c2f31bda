namespace Lotse.Controllers.NodeLifecycle;

/// <summary>kube-controller-manager's node lifecycle durations (the defaults are kube's).</summary>
public sealed record NodeLifecycleOptions
{
    /// <summary>How often every node is looked at (--node-monitor-period).</summary>
    public TimeSpan MonitorPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a node may go without a status heartbeat or Lease renewal before it is Unknown (--node-monitor-grace-period).</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>The same for a node that never posted a Ready condition, counted from its creation (--node-startup-grace-period).</summary>
    public TimeSpan StartupGracePeriod { get; init; } = TimeSpan.FromSeconds(60);
}
