namespace Lotse.Storage.Sqlite;

/// <summary>
/// The most recent committed events, in revision order, for watchers that keep up. Appended only by
/// the writer (after each commit); read by any number of watchers under the same lock. Older events
/// fall off the front — a watcher behind the ring reads them from the log instead.
/// </summary>
internal sealed class EventRing(int capacity)
{
    private readonly WatchEvent[] _events = new WatchEvent[capacity];
    private readonly Lock _gate = new();
    private int _start;
    private int _count;

    public void Append(IReadOnlyList<WatchEvent> events)
    {
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (_count == _events.Length)
                {
                    _start = (_start + 1) % _events.Length;
                    _count--;
                }

                _events[(_start + _count) % _events.Length] = e;
                _count++;
            }
        }
    }

    /// <summary>
    /// The events after <paramref name="afterRevision"/> when the ring still holds all of them
    /// (returns true; the list may be empty), or false when some have fallen off.
    /// </summary>
    public bool TryGetAfter(long afterRevision, long upToRevision, List<WatchEvent> into)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return afterRevision >= upToRevision;
            }

            var oldest = _events[_start].Revision;
            if (oldest > afterRevision + 1 && afterRevision < upToRevision)
            {
                return false;
            }

            // Binary search for the first event after afterRevision.
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (_events[(_start + mid) % _events.Length].Revision <= afterRevision)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            for (var i = lo; i < _count; i++)
            {
                var e = _events[(_start + i) % _events.Length];
                if (e.Revision > upToRevision)
                {
                    break;
                }

                into.Add(e);
            }

            return true;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            Array.Clear(_events);
            _start = 0;
            _count = 0;
        }
    }
}
