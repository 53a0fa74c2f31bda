namespace Lotse.Client.Queues;

/// <summary>
/// client-go's work queue: FIFO of keys that de-duplicates (a key waiting once is waiting), never
/// hands the same key to two workers (a key added while being processed is queued again when
/// <see cref="Done"/> is called), delayed adds, and rate-limited re-adds for failures. A named
/// queue reports client-go's workqueue metrics (<see cref="QueueMetrics"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: client-go's name for it")]
public sealed class WorkQueue : IDisposable
{
    private readonly PriorityQueue<string, (int Priority, long Order)> _queue = new();
    private readonly Func<string, int>? _priority;
    private long _order;
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _available = new(0);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly QueueMetrics? _metrics;
    private int _waiting;
    private int _disposed;

    /// <param name="name">The queue's name in the metrics (none without one).</param>
    /// <param name="priority">When given, keys are handed out highest first (first in, first out among equals), as the scheduler's active queue orders pods.</param>
    public WorkQueue(TimeProvider? time = null, RateLimiter? limiter = null, string? name = null, Func<string, int>? priority = null)
    {
        _priority = priority;
        _time = time ?? TimeProvider.System;
        Limiter = limiter ?? new RateLimiter(_time);
        _metrics = name is null ? null : new QueueMetrics(name, _time);
    }

    public RateLimiter Limiter { get; }

    /// <summary>Keys waiting to be handed out (not counting those in a delay).</summary>
    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Keys waiting in a delay (AddAfter / AddRateLimited).</summary>
    public int Delayed => Volatile.Read(ref _waiting);

    public bool IsShutDown => _shutdown.IsCancellationRequested;

    public void Add(string key)
    {
        lock (_gate)
        {
            if (_shutdown.IsCancellationRequested || !_dirty.Add(key))
            {
                return;
            }

            _metrics?.Added(key);
            if (_processing.Contains(key))
            {
                return;
            }

            Enqueue(key);
            _metrics?.Depth(_queue.Count);
        }

        _available.Release();
    }

    public void AddAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        _ = AddLaterAsync(key, delay);
    }

    /// <summary>Re-adds a key that failed, after its back-off.</summary>
    public void AddRateLimited(string key)
    {
        _metrics?.Retried();
        AddAfter(key, Limiter.When(key));
    }

    /// <summary>The key succeeded: its back-off starts over.</summary>
    public void Forget(string key) => Limiter.Forget(key);

    /// <summary>The next key, or null once the queue is shut down.</summary>
    public async Task<string?> GetAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        try
        {
            await _available.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            return null;
        }

        lock (_gate)
        {
            var key = _queue.Dequeue();
            _dirty.Remove(key);
            _processing.Add(key);
            _metrics?.Started(key, _queue.Count);
            return key;
        }
    }

    /// <summary>The worker is finished with the key; if it was added meanwhile, it is queued again.</summary>
    public void Done(string key)
    {
        var requeue = false;
        lock (_gate)
        {
            _processing.Remove(key);
            _metrics?.Finished(key);
            if (_dirty.Contains(key) && !_shutdown.IsCancellationRequested)
            {
                Enqueue(key);
                _metrics?.Depth(_queue.Count);
                requeue = true;
            }
        }

        if (requeue)
        {
            _available.Release();
        }
    }

    public void ShutDown() => _shutdown.Cancel();

    /// <summary>Under the lock.</summary>
    private void Enqueue(string key) => _queue.Enqueue(key, (-(_priority?.Invoke(key) ?? 0), _order++));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _shutdown.Cancel();
        _shutdown.Dispose();
        _available.Dispose();
    }

    private async Task AddLaterAsync(string key, TimeSpan delay)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await Task.Delay(delay, _time, _shutdown.Token);
            Add(key);
        }
        catch (OperationCanceledException)
        {
            // Shut down while waiting: nothing to add.
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting.
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
