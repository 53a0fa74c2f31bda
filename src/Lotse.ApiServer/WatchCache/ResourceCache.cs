using System.Collections.Immutable;
using System.Threading.Channels;

namespace Lotse.ApiServer.WatchCache;

/// <summary>
/// The in-memory state of one stored resource, kept current by <see cref="CacheSet"/>'s single store
/// watch: the live objects (an immutable sorted map, so readers take a snapshot without locks) and a
/// ring of recent events that watches resume from (kubernetes' watch cache, cacher.go).
/// All mutation happens on the CacheSet's dispatch loop under <see cref="_gate"/>.
/// </summary>
public sealed class ResourceCache
{
    /// <summary>How many recent events a watch can resume from before it gets 410 Gone.</summary>
    public const int EventCapacity = 4096;

    /// <summary>A watcher this many events behind is closed; its client re-watches from its last resourceVersion.</summary>
    public const int WatcherBacklogLimit = 10_000;

    private readonly Lock _gate = new();
    private readonly CacheEvent?[] _ring = new CacheEvent?[EventCapacity];
    private readonly List<CacheWatcher> _watchers = [];
    private ImmutableSortedDictionary<string, CachedObject> _objects = ImmutableSortedDictionary.Create<string, CachedObject>(StringComparer.Ordinal);
    private int _ringStart;
    private int _ringCount;

    /// <summary>Events after this revision are all in the ring (older ones were evicted or predate the cache).</summary>
    private long _oldestResumable;

    public ResourceCache(string keyPrefix) => KeyPrefix = keyPrefix;

    public string KeyPrefix { get; }

    /// <summary>The current objects; the revision they are current at is the CacheSet's.</summary>
    public ImmutableSortedDictionary<string, CachedObject> Objects => Volatile.Read(ref _objects);

    internal void Reset(IEnumerable<CachedObject> objects, long revision)
    {
        lock (_gate)
        {
            _objects = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, objects.Select(o => KeyValuePair.Create(o.Key, o)));
            Array.Clear(_ring);
            _ringStart = 0;
            _ringCount = 0;
            _oldestResumable = revision;
            foreach (var watcher in _watchers)
            {
                watcher.Close(gone: true);
            }

            _watchers.Clear();
        }
    }

    internal void Apply(CacheEvent e)
    {
        lock (_gate)
        {
            _objects = e.Type == CacheEventType.Deleted ? _objects.Remove(e.Object.Key) : _objects.SetItem(e.Object.Key, e.Object);
            if (_ringCount == EventCapacity)
            {
                _oldestResumable = _ring[_ringStart]!.Revision;
                _ringStart = (_ringStart + 1) % EventCapacity;
                _ringCount--;
            }

            _ring[(_ringStart + _ringCount) % EventCapacity] = e;
            _ringCount++;
            for (var i = _watchers.Count - 1; i >= 0; i--)
            {
                if (!_watchers[i].Offer(e))
                {
                    _watchers.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Starts a watch of every event after <paramref name="afterRevision"/>; with 0, first an
    /// ADDED event for each current object (at <paramref name="currentRevision"/>).
    /// Returns null when the revision is older than the ring holds (the caller answers 410 Gone).
    /// </summary>
    internal CacheWatcher? Watch(long afterRevision, long currentRevision, Func<CacheEvent, CacheEvent?> filter)
    {
        lock (_gate)
        {
            var channel = Channel.CreateUnbounded<CacheEvent>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true }) /* multi-reader: supports Count */;
            var watcher = new CacheWatcher(this, channel, filter);
            if (afterRevision == 0)
            {
                foreach (var o in _objects.Values)
                {
                    watcher.Offer(new CacheEvent(CacheEventType.Added, o, null, currentRevision));
                }
            }
            else
            {
                if (afterRevision < _oldestResumable)
                {
                    return null;
                }

                for (var i = 0; i < _ringCount; i++)
                {
                    var e = _ring[(_ringStart + i) % EventCapacity]!;
                    if (e.Revision > afterRevision)
                    {
                        watcher.Offer(e);
                    }
                }
            }

            _watchers.Add(watcher);
            return watcher;
        }
    }

    internal void Remove(CacheWatcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }
    }

    /// <summary>The oldest revision a watch may start after (for the 410 message).</summary>
    public long OldestResumableRevision
    {
        get
        {
            lock (_gate)
            {
                return _oldestResumable;
            }
        }
    }
}
