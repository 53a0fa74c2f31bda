namespace Lotse.Client.LeaderElection;

/// <summary>client-go's leader election timing (its defaults, as kube-controller-manager and kube-scheduler use them).</summary>
public sealed record LeaderElectionOptions
{
    /// <summary>How long a lease holds without renewal before others may take it.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before it gives leadership up.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often candidates try to acquire and the leader renews.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}
