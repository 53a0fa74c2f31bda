using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Client.Informers;

/// <summary>
/// A shared informer (client-go's reflector + indexer + processor in one): lists a kind, then
/// watches it from the list's resourceVersion, keeping an in-memory cache keyed
/// <c>namespace/name</c> with secondary indexes, and telling handlers about every change. A watch
/// that ends is resumed from the last resourceVersion seen (bookmarks move it too); a 410 Gone or
/// an error event relists, and the relist reports the differences as adds, updates and deletes.
/// Handlers run on the informer's loop and must only do cheap work (enqueue a key).
/// </summary>
public sealed partial class Informer<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public const string NamespaceIndex = "namespace";

    private readonly ListWatch<T> _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _resync;
    private readonly ConcurrentDictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _indexes = new(StringComparer.Ordinal);
    private readonly List<IInformerHandler<T>> _handlers = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Informer(ListWatch<T> source, ILogger logger, TimeProvider? time = null, TimeSpan resync = default)
    {
        _source = source;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _resync = resync;
        AddIndex(NamespaceIndex, o => o.Metadata?.NamespaceProperty is { Length: > 0 } ns ? [ns] : []);
    }

    public string Kind => _source.Kind;

    public Task Synced => _synced.Task;

    /// <summary>The resourceVersion the cache reflects.</summary>
    public string LastResourceVersion { get; private set; } = "0";

    /// <summary>Adds a secondary index (before <see cref="RunAsync"/>): the values an object is found under.</summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> index)
    {
        lock (_gate)
        {
            _indexers[name] = index;
            _indexes[name] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (key, obj) in _items)
            {
                AddToIndex(name, index, key, obj);
            }
        }
    }

    public void AddHandler(IInformerHandler<T> handler)
    {
        lock (_gate)
        {
            _handlers.Add(handler);
        }
    }

    /// <summary>The cached object (shared: copy it before changing anything).</summary>
    public T? Get(string key) => _items.GetValueOrDefault(key);

    public T? Get(string? @namespace, string name) => Get(ObjectKey.Of(@namespace, name));

    public IReadOnlyList<T> List() => [.. _items.Values];

    public IReadOnlyList<T> ByNamespace(string @namespace) => ByIndex(NamespaceIndex, @namespace);

    public IReadOnlyList<T> ByIndex(string index, string value)
    {
        lock (_gate)
        {
            if (!_indexes.TryGetValue(index, out var values) || !values.TryGetValue(value, out var keys))
            {
                return [];
            }

            var result = new List<T>(keys.Count);
            foreach (var key in keys)
            {
                if (_items.TryGetValue(key, out var obj))
                {
                    result.Add(obj);
                }
            }

            return result;
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var resourceVersion = await ListAsync(cancellationToken);
                _synced.TrySetResult();
                failures = 0;
                await WatchAsync(resourceVersion, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                // The API server is away or restarting: relist after a short, growing pause (≤ 5 s).
                failures++;
                LogListWatchFailed(_logger, Kind, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * (1 << Math.Min(failures, 6)))), _time, cancellationToken);
            }
        }
    }

    /// <summary>Lists all pages and replaces the cache, reporting the differences to the handlers.</summary>
    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        string? next = null;
        string resourceVersion;
        do
        {
            var page = await _source.ListPage(next, cancellationToken);
            foreach (var item in page.Items)
            {
                fresh[ObjectKey.Of(item)] = item;
            }

            resourceVersion = page.ResourceVersion;
            next = page.Continue;
        }
        while (next is not null);

        foreach (var (key, obj) in fresh)
        {
            Upsert(key, obj);
        }

        foreach (var key in _items.Keys.Where(k => !fresh.ContainsKey(k)).ToList())
        {
            Remove(key);
        }

        LastResourceVersion = resourceVersion;
        return resourceVersion;
    }

    /// <summary>Watches from <paramref name="resourceVersion"/>, resuming after each normal end; returns to relist.</summary>
    private async Task WatchAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        var nextResync = _resync > TimeSpan.Zero ? _time.GetUtcNow() + _resync : DateTimeOffset.MaxValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            // An ERROR event (410 Expired after compaction or a server restart, or anything else) reaches
            // us through onError; the server then ends the stream, and the informer lists again.
            Exception? failed = null;
            await foreach (var (type, obj) in _source.Watch(resourceVersion, e => failed ??= e, cancellationToken))
            {
                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified:
                        Upsert(ObjectKey.Of(obj), obj);
                        break;
                    case WatchEventType.Deleted:
                        Remove(ObjectKey.Of(obj), obj);
                        break;
                    case WatchEventType.Bookmark:
                        break;
                    default:
                        LogWatchError(_logger, Kind, type.ToString());
                        return;
                }

                if (obj.Metadata?.ResourceVersion is { Length: > 0 } rv)
                {
                    resourceVersion = rv;
                    LastResourceVersion = rv;
                }

                if (_time.GetUtcNow() >= nextResync)
                {
                    Resync();
                    nextResync = _time.GetUtcNow() + _resync;
                }
            }

            if (failed is not null)
            {
                LogWatchError(_logger, Kind, failed.Message);
                return;
            }
        }
    }

    /// <summary>Tells the handlers about every cached object again, so level-driven loops re-check them.</summary>
    private void Resync()
    {
        foreach (var obj in _items.Values)
        {
            foreach (var handler in Handlers())
            {
                Notify(() => handler.OnUpdate(obj, obj));
            }
        }
    }

    private void Upsert(string key, T obj)
    {
        T? old;
        lock (_gate)
        {
            _items.TryGetValue(key, out old);
            if (old is not null && old.Metadata?.ResourceVersion == obj.Metadata?.ResourceVersion && old.Metadata?.ResourceVersion is not null)
            {
                return;
            }

            if (old is not null)
            {
                RemoveFromIndexes(key, old);
            }

            _items[key] = obj;
            foreach (var (name, index) in _indexers)
            {
                AddToIndex(name, index, key, obj);
            }
        }

        foreach (var handler in Handlers())
        {
            Notify(old is null ? () => handler.OnAdd(obj) : () => handler.OnUpdate(old, obj));
        }
    }

    private void Remove(string key, T? final = null)
    {
        T? old;
        lock (_gate)
        {
            if (!_items.TryRemove(key, out old))
            {
                return;
            }

            RemoveFromIndexes(key, old);
        }

        foreach (var handler in Handlers())
        {
            Notify(() => handler.OnDelete(final ?? old));
        }
    }

    private void AddToIndex(string name, Func<T, IEnumerable<string>> index, string key, T obj)
    {
        var values = _indexes[name];
        foreach (var value in index(obj))
        {
            if (!values.TryGetValue(value, out var keys))
            {
                values[value] = keys = new HashSet<string>(StringComparer.Ordinal);
            }

            keys.Add(key);
        }
    }

    private void RemoveFromIndexes(string key, T obj)
    {
        foreach (var (name, index) in _indexers)
        {
            var values = _indexes[name];
            foreach (var value in index(obj))
            {
                if (values.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0)
                {
                    values.Remove(value);
                }
            }
        }
    }

    private IInformerHandler<T>[] Handlers()
    {
        lock (_gate)
        {
            return [.. _handlers];
        }
    }

    /// <summary>A handler that throws is a bug in that handler; it must not stop the informer.</summary>
    private void Notify(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // the informer outlives a faulty handler; the failure is logged
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, Kind, e);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "{Kind} informer: list/watch failed, retrying: {Error}")]
    private static partial void LogListWatchFailed(ILogger logger, string kind, string error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Kind} informer: the watch ended with an error ({Error}); listing again")]
    private static partial void LogWatchError(ILogger logger, string kind, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "{Kind} informer: an event handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, string kind, Exception exception);
}
