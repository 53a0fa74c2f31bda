using k8s.Models;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// Kubernetes' controller expectations (the UID-tracking kind): after a controller creates N
/// dependents and deletes some named ones it waits for the watch to show them before it trusts
/// its cache again, so a stale cache never makes it act twice. Creations are counted; deletions
/// are tracked by the dependent's UID, so seeing the same deletion twice (the deletionTimestamp,
/// then the removal) or deleting a dependent that was already going counts once. Expectations
/// older than five minutes are given up (an event was lost).
/// </summary>
/// <remarks>
/// Check <see cref="Satisfied"/> before reading the cache for a sync, as kube does: a cache read
/// first may still hold dependents whose deletion is observed only in between.
/// </remarks>
public sealed class Expectations(TimeProvider time)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Expects <paramref name="adds"/> creations and the deletion of the dependents with these UIDs.</summary>
    public void Expect(string key, int adds, IEnumerable<string>? deletions = null)
    {
        lock (_gate)
        {
            _pending[key] = new Pending(adds, new HashSet<string>(deletions ?? [], StringComparer.Ordinal), time.GetUtcNow());
        }
    }

    public void CreationObserved(string key) => LowerCreations(key, 1);

    /// <summary>A create that failed will never be observed: stop waiting for it.</summary>
    public void LowerCreations(string key, int count)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(key, out var pending))
            {
                pending.Adds -= count;
            }
        }
    }

    /// <summary>The dependent is going or gone (or its delete failed): no longer waited for.</summary>
    public void DeletionObserved(string key, string? uid)
    {
        lock (_gate)
        {
            if (uid is not null && _pending.TryGetValue(key, out var pending))
            {
                pending.Deletes.Remove(uid);
            }
        }
    }

    /// <summary>
    /// What a dependent's watch event tells (<paramref name="old"/> is null for an add): a new one
    /// is a creation seen; a deletionTimestamp or the removal is its deletion seen.
    /// </summary>
    public void Observe(string key, V1ObjectMeta? old, V1ObjectMeta current, bool removed)
    {
        if (removed || current.DeletionTimestamp is not null)
        {
            DeletionObserved(key, current.Uid);
        }
        else if (old is null)
        {
            CreationObserved(key);
        }
    }

    public bool Satisfied(string key)
    {
        lock (_gate)
        {
            return !_pending.TryGetValue(key, out var e) || (e.Adds <= 0 && e.Deletes.Count == 0) || time.GetUtcNow() - e.At > Timeout;
        }
    }

    public void Forget(string key)
    {
        lock (_gate)
        {
            _pending.Remove(key);
        }
    }

    private sealed class Pending(int adds, HashSet<string> deletes, DateTimeOffset at)
    {
        public int Adds { get; set; } = adds;

        public HashSet<string> Deletes { get; } = deletes;

        public DateTimeOffset At { get; } = at;
    }
}
