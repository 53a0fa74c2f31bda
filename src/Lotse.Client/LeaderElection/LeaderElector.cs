using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Client.LeaderElection;

/// <summary>
/// Leader election over <c>coordination.k8s.io</c> Leases, as client-go's leaderelection package does
/// it: a candidate takes a lease that is free, its own, or not renewed for the lease duration — judged
/// by when this process saw the lease last change, not by the holder's clock — with optimistic
/// concurrency on the Lease's resourceVersion; the leader renews every retry period and gives up when
/// renewals fail for the renew deadline. Several leases are held together, taken in order (so two
/// candidates cannot each hold one), e.g. kube-controller-manager and kube-scheduler in kube-system.
/// </summary>
public sealed partial class LeaderElector(IKubernetes client, string @namespace, IReadOnlyList<string> leases, string identity, ILogger logger, LeaderElectionOptions? options = null, TimeProvider? time = null)
{
    private readonly LeaderElectionOptions _options = options ?? new LeaderElectionOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Observed> _observed = new(StringComparer.Ordinal);

    public string Identity => identity;

    /// <summary>The holder of the first lease as last seen (for status lines).</summary>
    public string? Leader => _observed.TryGetValue(leases[0], out var seen) ? seen.Holder : null;

    /// <summary>One try at every lease (true: this candidate leads now).</summary>
    public Task<bool> TryAcquireAsync(CancellationToken cancellationToken) => TryAllAsync(cancellationToken);

    /// <summary>Returns once every lease is held by this candidate; retries every retry period until then.</summary>
    public async Task AcquireAsync(CancellationToken cancellationToken)
    {
        var waiting = false;
        while (!await TryAllAsync(cancellationToken))
        {
            if (!waiting)
            {
                LogWaiting(logger, identity, string.Join(", ", leases), Leader ?? "unknown");
                waiting = true;
            }

            await Task.Delay(_options.RetryPeriod, _time, cancellationToken);
        }

        LogAcquired(logger, identity, string.Join(", ", leases));
    }

    /// <summary>Renews until renewal has failed for the renew deadline (returns: leadership lost) or until cancelled (throws).</summary>
    public async Task HoldAsync(CancellationToken cancellationToken)
    {
        var lastRenewed = _time.GetUtcNow();
        while (true)
        {
            await Task.Delay(_options.RetryPeriod, _time, cancellationToken);
            if (await TryAllAsync(cancellationToken))
            {
                lastRenewed = _time.GetUtcNow();
            }
            else if (_time.GetUtcNow() - lastRenewed >= _options.RenewDeadline)
            {
                LogLost(logger, identity, string.Join(", ", leases));
                return;
            }
        }
    }

    /// <summary>Gives the leases up at once (client-go's ReleaseOnCancel), so a successor need not wait out the duration.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        foreach (var name in leases.Reverse())
        {
            try
            {
                var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(name, @namespace, cancellationToken: cancellationToken);
                if (lease.Spec?.HolderIdentity != identity)
                {
                    continue;
                }

                var now = _time.GetUtcNow().UtcDateTime;
                lease.Spec.HolderIdentity = null;
                lease.Spec.LeaseDurationSeconds = 1;
                lease.Spec.RenewTime = now;
                lease.Spec.AcquireTime = now;
                await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, @namespace, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
            {
                LogReleaseFailed(logger, name, e.Message); // it expires by itself
            }
        }
    }

    /// <summary>One round over the leases in order; an unreachable API server counts as a failed round.</summary>
    private async Task<bool> TryAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var name in leases)
            {
                if (!await TryAcquireOrRenewAsync(name, cancellationToken))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or TimeoutException)
        {
            LogRenewFailed(logger, e.Message);
            return false;
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(string name, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        V1Lease lease;
        try
        {
            lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(name, @namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            try
            {
                await client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
                    Spec = Record(null, now),
                }, @namespace, cancellationToken: cancellationToken);
                _observed[name] = new Observed(identity, now.UtcDateTime, now);
                return true;
            }
            catch (HttpOperationException conflict) when (conflict.Response.StatusCode == HttpStatusCode.Conflict)
            {
                return false; // another candidate created it first
            }
        }

        var spec = lease.Spec ?? new V1LeaseSpec();
        var seen = _observed.AddOrUpdate(
            name,
            _ => new Observed(spec.HolderIdentity, spec.RenewTime, now),
            (_, old) => old.Holder != spec.HolderIdentity || old.RenewTime != spec.RenewTime ? new Observed(spec.HolderIdentity, spec.RenewTime, now) : old);
        var held = !string.IsNullOrEmpty(spec.HolderIdentity) && spec.HolderIdentity != identity;
        if (held && seen.At + TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? 15) > now)
        {
            return false;
        }

        lease.Spec = Record(spec, now);
        try
        {
            await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, @namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }

        _observed[name] = new Observed(identity, now.UtcDateTime, now);
        return true;
    }

    /// <summary>The lease as this candidate holds it: a renewal keeps the acquire time and transitions, a takeover counts one more.</summary>
    private V1LeaseSpec Record(V1LeaseSpec? current, DateTimeOffset now)
    {
        var renewal = current?.HolderIdentity == identity;
        return new V1LeaseSpec
        {
            HolderIdentity = identity,
            LeaseDurationSeconds = (int)_options.LeaseDuration.TotalSeconds,
            AcquireTime = renewal ? current!.AcquireTime : now.UtcDateTime,
            RenewTime = now.UtcDateTime,
            LeaseTransitions = current is null ? 0 : (current.LeaseTransitions ?? 0) + (renewal ? 0 : 1),
        };
    }

    private sealed record Observed(string? Holder, DateTime? RenewTime, DateTimeOffset At);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Identity} is waiting for the leases {Leases} (held by {Holder})")]
    private static partial void LogWaiting(ILogger logger, string identity, string leases, string holder);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Identity} acquired the leases {Leases}")]
    private static partial void LogAcquired(ILogger logger, string identity, string leases);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Identity} lost the leases {Leases}: renewal failed for the renew deadline")]
    private static partial void LogLost(ILogger logger, string identity, string leases);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "reading or writing the leases failed: {Error}")]
    private static partial void LogRenewFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "releasing the lease {Lease} failed (it expires by itself): {Error}")]
    private static partial void LogReleaseFailed(ILogger logger, string lease, string error);
}
