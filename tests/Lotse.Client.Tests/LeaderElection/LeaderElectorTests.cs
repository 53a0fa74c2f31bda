using k8s;
using k8s.Models;
using Lotse.Client.LeaderElection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Client.Tests.LeaderElection;

/// <summary>Two candidates against the real API server in-process, with short durations.</summary>
public sealed class LeaderElectorTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private static readonly LeaderElectionOptions Fast = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(1),
        RenewDeadline = TimeSpan.FromMilliseconds(600),
        RetryPeriod = TimeSpan.FromMilliseconds(100),
    };

    private static LeaderElector Candidate(Kubernetes client, string identity, params string[] leases) =>
        new(client, "kube-system", leases, identity, NullLogger.Instance, Fast);

    [Fact]
    public async Task OneLeads_TheOtherWaits_AndTakesOverWhenTheLeasesAreReleased()
    {
        using var client = server.Kubernetes();
        var a = Candidate(client, "a", "cm-1", "sched-1");
        var b = Candidate(client, "b", "cm-1", "sched-1");
        Assert.True(await a.TryAcquireAsync(CancellationToken.None));
        Assert.False(await b.TryAcquireAsync(CancellationToken.None));
        Assert.Equal("a", b.Leader);

        using var holding = new CancellationTokenSource();
        var hold = a.HoldAsync(holding.Token);
        using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var acquire = b.AcquireAsync(waiting.Token);

        // Renewed by a, the leases never expire for b.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(acquire.IsCompleted);
        var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync("cm-1", "kube-system");
        Assert.Equal(("a", 1, 0), (lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds, lease.Spec.LeaseTransitions));

        await holding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hold);
        await a.ReleaseAsync(CancellationToken.None);
        await acquire;
        foreach (var name in (string[])["cm-1", "sched-1"])
        {
            lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(name, "kube-system");
            Assert.Equal(("b", 1), (lease.Spec.HolderIdentity, lease.Spec.LeaseTransitions));
        }
    }

    [Fact]
    public async Task AnUnrenewedLease_IsTakenAfterItsDuration_AndTheOldLeaderNoticesItLostIt()
    {
        using var client = server.Kubernetes();
        var a = Candidate(client, "a", "cm-2");
        var b = Candidate(client, "b", "cm-2");
        Assert.True(await a.TryAcquireAsync(CancellationToken.None));

        // a stops renewing (a crash): b waits the lease duration as it observed it, then takes over.
        var started = DateTime.UtcNow;
        using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await b.AcquireAsync(waiting.Token);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));

        // a, back, can no longer renew while b holds: it gives up after the renew deadline.
        using var bHolding = new CancellationTokenSource();
        var bHold = b.HoldAsync(bHolding.Token);
        using var holding = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await a.HoldAsync(holding.Token);
        Assert.False(holding.IsCancellationRequested);
        Assert.Equal("b", (await client.CoordinationV1.ReadNamespacedLeaseAsync("cm-2", "kube-system")).Spec.HolderIdentity);
        await bHolding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bHold);
    }

    [Fact]
    public async Task ACandidate_TakesItsOwnLeaseBackAtOnce()
    {
        using var client = server.Kubernetes();
        Assert.True(await Candidate(client, "same", "cm-3").TryAcquireAsync(CancellationToken.None));

        // A restarted process with the same identity does not wait for its old lease to expire.
        var again = Candidate(client, "same", "cm-3");
        Assert.True(await again.TryAcquireAsync(CancellationToken.None));
        Assert.Equal(0, (await client.CoordinationV1.ReadNamespacedLeaseAsync("cm-3", "kube-system")).Spec.LeaseTransitions);
    }
}
