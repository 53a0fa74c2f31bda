using System.Collections.Concurrent;
using Lotse.Storage;
using Microsoft.Extensions.Logging;

namespace Lotse.ApiServer.WatchCache;

/// <summary>
/// Every resource's cache, fed by ONE store watch over <c>/registry/</c>: each event is routed to
/// the cache of its key prefix. Because every write of the API server lives under that prefix, the
/// watch's revision is the store's revision, so "the cache has caught up with the store" is one
/// number (<see cref="Revision"/>) — what consistent LISTs wait for.
/// </summary>
public sealed partial class CacheSet(IStore store, ILogger<CacheSet> logger) : IAsyncDisposable
{
    public const string RootPrefix = "/registry/";

    private readonly ConcurrentDictionary<string, ResourceCache> _caches = new(StringComparer.Ordinal);
    private readonly Lock _revisionGate = new();
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Held while an event is dispatched, and while a cache is added, so none slips between.</summary>
    private readonly SemaphoreSlim _dispatch = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _revision;
    private Task? _loop;

    /// <summary>The revision every cache is current at.</summary>
    public long Revision => Volatile.Read(ref _revision);

    /// <summary>Completes once every cache holds the store's state (the /readyz gate).</summary>
    public Task Ready => _ready.Task;

    public ResourceCache? Find(string keyPrefix) => _caches.GetValueOrDefault(keyPrefix);

    /// <summary>Registers the caches, loads them, and starts the watch loop.</summary>
    public async Task StartAsync(IEnumerable<string> keyPrefixes, CancellationToken cancellationToken)
    {
        foreach (var prefix in keyPrefixes)
        {
            _caches.TryAdd(prefix, new ResourceCache(prefix));
        }

        var revision = await LoadAsync(cancellationToken);
        _loop = Task.Run(() => RunAsync(revision, _stop.Token), CancellationToken.None);
    }

    /// <summary>
    /// Adds the cache of a prefix served from now on (a custom resource), loaded at the revision every
    /// other cache is at; events after it reach it through the shared watch.
    /// </summary>
    public async Task AddAsync(string keyPrefix, CancellationToken cancellationToken)
    {
        if (_caches.ContainsKey(keyPrefix))
        {
            return;
        }

        await _dispatch.WaitAsync(cancellationToken);
        try
        {
            if (_caches.ContainsKey(keyPrefix))
            {
                return;
            }

            var cache = new ResourceCache(keyPrefix);
            var revision = Revision;
            cache.Reset(await RangeAsync(keyPrefix, revision, cancellationToken), revision);
            _caches[keyPrefix] = cache;
        }
        finally
        {
            _dispatch.Release();
        }
    }

    private async Task<List<CachedObject>> RangeAsync(string keyPrefix, long revision, CancellationToken cancellationToken)
    {
        var objects = new List<CachedObject>();
        string? after = null;
        while (true)
        {
            var page = await store.RangeAsync(new RangeRequest(keyPrefix, 1000, after, revision), cancellationToken);
            objects.AddRange(page.Items.Select(CachedObject.FromStore));
            if (!page.More || page.Items.Count == 0)
            {
                return objects;
            }

            after = page.Items[^1].Key;
        }
    }

    /// <summary>Lists every cached prefix at one revision and resets the caches to it.</summary>
    private async Task<long> LoadAsync(CancellationToken cancellationToken)
    {
        var revision = await store.GetCurrentRevisionAsync(cancellationToken);
        foreach (var cache in _caches.Values)
        {
            cache.Reset(await RangeAsync(cache.KeyPrefix, revision, cancellationToken), revision);
        }

        Advance(revision);
        _ready.TrySetResult();
        return revision;
    }

    private async Task RunAsync(long revision, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in store.WatchAsync(RootPrefix, revision, cancellationToken))
                {
                    await _dispatch.WaitAsync(cancellationToken);
                    try
                    {
                        if (e.Type != WatchEventType.Progress)
                        {
                            Dispatch(e);
                        }

                        revision = e.Revision;
                        Advance(revision);
                    }
                    finally
                    {
                        _dispatch.Release();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (WatchEndedException ex)
            {
                LogWatchResumed(ex.LastRevision, ex.Message);
                revision = Math.Max(revision, ex.LastRevision);
            }
            catch (CompactedException ex)
            {
                LogRelist(ex.Message);
                revision = await RetryAsync(LoadAsync, cancellationToken);
            }
            catch (StoreException ex)
            {
                LogWatchFailed(ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // A bug must not leave the caches silently stale: log it and rebuild them from the store.
                LogRelist($"unexpected {ex.GetType().Name}: {ex.Message}");
                revision = await RetryAsync(LoadAsync, cancellationToken);
            }
        }
    }

    private static async Task<long> RetryAsync(Func<CancellationToken, Task<long>> action, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await action(cancellationToken);
            }
            catch (StoreException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private void Dispatch(WatchEvent e)
    {
        var key = e.Kv.Key;
        var end = key.IndexOf('/', RootPrefix.Length);
        if (end < 0 || !_caches.TryGetValue(key[..(end + 1)], out var cache))
        {
            return;
        }

        try
        {
            var previous = e.PrevKv is null ? null : CachedObject.FromStore(e.PrevKv);
            if (e.Type == WatchEventType.Delete)
            {
                if (previous is null)
                {
                    return;
                }

                // The deleted object as last seen, stamped with the delete's revision (kubernetes does the same).
                var gone = CachedObject.FromStored(key, e.PrevKv!.Value, e.Revision, previous.CreateRevision);
                cache.Apply(new CacheEvent(CacheEventType.Deleted, gone, previous, e.Revision));
            }
            else
            {
                var current = CachedObject.FromStore(e.Kv);
                cache.Apply(new CacheEvent(e.IsCreate || previous is null ? CacheEventType.Added : CacheEventType.Modified, current, previous, e.Revision));
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException)
        {
            LogUndecodable(key, ex.Message);
        }
    }

    private void Advance(long revision)
    {
        TaskCompletionSource advanced;
        lock (_revisionGate)
        {
            if (revision <= _revision)
            {
                return;
            }

            Volatile.Write(ref _revision, revision);
            advanced = _advanced;
            _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        advanced.TrySetResult();
    }

    /// <summary>Waits until the caches are current at <paramref name="revision"/>; false on timeout.</summary>
    public async Task<bool> WaitForRevisionAsync(long revision, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        while (true)
        {
            Task next;
            lock (_revisionGate)
            {
                if (_revision >= revision)
                {
                    return true;
                }

                next = _advanced.Task;
            }

            try
            {
                await next.WaitAsync(timeoutCts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Revision >= revision;
            }
        }
    }

    /// <summary>Waits until the caches hold everything the store has acknowledged (a consistent read).</summary>
    public async Task<bool> WaitForStoreAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await WaitForRevisionAsync(await store.GetCurrentRevisionAsync(cancellationToken), timeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
        _dispatch.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Watch cache resumes after revision {Revision}: {Reason}")]
    private partial void LogWatchResumed(long revision, string reason);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Watch cache relists: {Reason}")]
    private partial void LogRelist(string reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Watch cache lost the store, retrying: {Reason}")]
    private partial void LogWatchFailed(string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "Stored value of {Key} cannot be decoded and is skipped: {Reason}")]
    private partial void LogUndecodable(string key, string reason);
}
