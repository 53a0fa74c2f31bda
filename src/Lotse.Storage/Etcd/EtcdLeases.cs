using Lotse.Storage.Etcd.Wire;

namespace Lotse.Storage.Etcd;

/// <summary>
/// Leases for keys with a time to live, shared between writes with the same TTL for a short window
/// (as kube-apiserver's lease manager does, so every event does not cost a LeaseGrant): the window is
/// 5% of the TTL, and the lease is granted for TTL + window so no key expires early.
/// </summary>
internal sealed class EtcdLeases(EtcdStore store)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, (long Id, DateTime ReuseUntil)> _byTtl = [];

    public async Task<long> ForTtlAsync(long ttlSeconds, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            if (_byTtl.TryGetValue(ttlSeconds, out var lease) && lease.ReuseUntil > now)
            {
                return lease.Id;
            }
        }

        var window = (long)Math.Ceiling(ttlSeconds * 0.05);
        var granted = await store.CallAsync(
            async (channel, ct) => await new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds + window }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct),
            cancellationToken);
        lock (_gate)
        {
            _byTtl[ttlSeconds] = (granted.ID, now.AddSeconds(window));
        }

        return granted.ID;
    }
}
