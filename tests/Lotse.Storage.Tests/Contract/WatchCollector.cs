namespace Lotse.Storage.Tests.Contract;

/// <summary>Reads a watch in the background, keeping the change events (progress events are checked, then dropped).</summary>
internal sealed class WatchCollector : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<WatchEvent> _events = [];
    private readonly Task _reader;
    private long _lastProgress;

    public WatchCollector(IStore store, string prefix, long afterRevision)
    {
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in store.WatchAsync(prefix, afterRevision, _cts.Token))
                {
                    lock (_events)
                    {
                        if (e.Type == WatchEventType.Progress)
                        {
                            if (e.Revision < _lastProgress)
                            {
                                Error = new InvalidOperationException($"progress went back from {_lastProgress} to {e.Revision}");
                            }

                            _lastProgress = e.Revision;
                            continue;
                        }

                        if (_events.Count > 0 && e.Revision <= _events[^1].Revision)
                        {
                            Error = new InvalidOperationException($"event revision {e.Revision} after {_events[^1].Revision}");
                        }

                        _events.Add(e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                Error = ex;
            }
        });
    }

    public Exception? Error { get; private set; }

    public async Task<IReadOnlyList<WatchEvent>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            lock (_events)
            {
                if (_events.Count >= count || Error is not null)
                {
                    break;
                }
            }

            await Task.Delay(10);
        }

        if (Error is not null)
        {
            throw new InvalidOperationException("the watch failed", Error);
        }

        lock (_events)
        {
            return [.. _events];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await _reader;
        _cts.Dispose();
    }
}
