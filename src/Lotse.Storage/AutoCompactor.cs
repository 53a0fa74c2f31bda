using Microsoft.Extensions.Logging;

namespace Lotse.Storage;

/// <summary>
/// Compacts a store on a timer, keeping a window of recent history — what kine does for K3s and
/// what kube-apiserver does for etcd (<c>--etcd-compaction-interval</c>, default 5 minutes).
/// Each round compacts to <c>current − retain</c>, so at least the last <c>retain</c> revisions and
/// everything written during the last interval stay readable and watchable.
/// </summary>
public sealed partial class AutoCompactor(IStore store, TimeSpan interval, long retainRevisions, ILogger<AutoCompactor> logger, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>The revision the previous round saw as current; the next round compacts no further than it.</summary>
    private long _lastSeenRevision;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                await CompactOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreException ex)
            {
                LogCompactionFailed(ex.Message);
            }
        }
    }

    /// <summary>One round: compact to min(revision seen last round, current − retain).</summary>
    public async Task<long> CompactOnceAsync(CancellationToken cancellationToken)
    {
        var current = await store.GetCurrentRevisionAsync(cancellationToken);
        var target = Math.Min(_lastSeenRevision, current - retainRevisions);
        _lastSeenRevision = current;
        var compacted = await store.GetCompactRevisionAsync(cancellationToken);
        if (target <= compacted)
        {
            return compacted;
        }

        var started = _time.GetTimestamp();
        await store.CompactAsync(target, cancellationToken);
        var elapsed = _time.GetElapsedTime(started);
        LogCompacted(target, current, elapsed.TotalMilliseconds);
        return target;
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Compacted the store to revision {Revision} (current {Current}) in {Milliseconds:F0} ms")]
    private partial void LogCompacted(long revision, long current, double milliseconds);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Compaction failed, will retry: {Reason}")]
    private partial void LogCompactionFailed(string reason);
}
