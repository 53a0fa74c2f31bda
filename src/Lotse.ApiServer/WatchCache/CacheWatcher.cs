using System.Threading.Channels;

namespace Lotse.ApiServer.WatchCache;

/// <summary>
/// One client watch on a <see cref="ResourceCache"/>. Events pass the watcher's filter (which also
/// turns "stopped matching the selector" into DELETED, as kubernetes' cacheWatcher does) into an
/// unbounded channel; a watcher whose backlog passes the limit is closed, and its client resumes
/// from the last resourceVersion it saw.
/// </summary>
public sealed class CacheWatcher : IDisposable
{
    private readonly ResourceCache _cache;
    private readonly Channel<CacheEvent> _channel;
    private readonly Func<CacheEvent, CacheEvent?> _filter;

    internal CacheWatcher(ResourceCache cache, Channel<CacheEvent> channel, Func<CacheEvent, CacheEvent?> filter)
    {
        _cache = cache;
        _channel = channel;
        _filter = filter;
    }

    public ChannelReader<CacheEvent> Events => _channel.Reader;

    /// <summary>True when the cache was re-initialized under this watcher (the client must relist: 410).</summary>
    public bool Gone { get; private set; }

    /// <returns>False when the watcher is closed and should be dropped.</returns>
    internal bool Offer(CacheEvent e)
    {
        var filtered = _filter(e);
        if (filtered is null)
        {
            return true;
        }

        if (_channel.Reader.Count >= ResourceCache.WatcherBacklogLimit)
        {
            _channel.Writer.TryComplete();
            return false;
        }

        return _channel.Writer.TryWrite(filtered);
    }

    internal void Close(bool gone)
    {
        Gone = gone;
        _channel.Writer.TryComplete();
    }

    public void Dispose()
    {
        _cache.Remove(this);
        _channel.Writer.TryComplete();
    }
}
