namespace Lotse.Controllers.Runtime;

/// <summary>
/// Kubernetes' controller expectations: after a controller creates or deletes N dependents it
/// expects to see N watch events before it trusts its cache again, so a stale cache never makes
/// it act twice. Expectations older than five minutes are given up (an event was lost).
/// </summary>
public sealed class Expectations(TimeProvider time)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, (int Adds, int Deletes, DateTimeOffset At)> _pending = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Expect(string key, int adds, int deletes)
    {
        lock (_gate)
        {
            _pending[key] = (adds, deletes, time.GetUtcNow());
        }
    }

    public void Observed(string key, bool added)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(key, out var e))
            {
                _pending[key] = added ? e with { Adds = e.Adds - 1 } : e with { Deletes = e.Deletes - 1 };
            }
        }
    }

    /// <summary>A create or delete that failed will never be observed: stop waiting for it.</summary>
    public void Lower(string key, int adds, int deletes)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(key, out var e))
            {
                _pending[key] = e with { Adds = e.Adds - adds, Deletes = e.Deletes - deletes };
            }
        }
    }

    public bool Satisfied(string key)
    {
        lock (_gate)
        {
            return !_pending.TryGetValue(key, out var e) || (e.Adds <= 0 && e.Deletes <= 0) || time.GetUtcNow() - e.At > Timeout;
        }
    }

    public void Forget(string key)
    {
        lock (_gate)
        {
            _pending.Remove(key);
        }
    }
}
