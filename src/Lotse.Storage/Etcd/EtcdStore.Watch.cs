using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Lotse.Storage.Etcd.Wire;
using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>How often an idle watch asks etcd for a progress notification (etcd's own is every 10 minutes).</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long after a watch is (re)created its progress answers are not trusted: etcd before
    /// 3.4.24 / 3.5.8 answers a progress request with the store's current revision even while the
    /// new watch is still replaying older events (etcd issue 15220), and a cache that believed it
    /// would serve a "consistent" list without them. The replay of what a watch missed is done well
    /// within this.
    /// </summary>
    private static readonly TimeSpan ProgressSettle = TimeSpan.FromSeconds(3);

    /// <summary>How long a broken watch keeps trying to re-establish itself before it ends.</summary>
    private static readonly TimeSpan ReconnectFor = TimeSpan.FromSeconds(30);

    /// <summary>
    /// One gRPC Watch stream per call, created at afterRevision + 1 with previous values. A broken stream
    /// (a member went away) is re-created from the last delivered revision on the next endpoint, so the
    /// consumer sees no gap and no duplicate; only when no member answers does the watch end with
    /// <see cref="WatchEndedException"/>.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = afterRevision;
        var createdAt = DateTime.UtcNow;
        var failures = 0;
        DateTime? brokenSince = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (index, channel) = _endpoints.Current;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
            using var call = new Watch.WatchClient(channel).Watch(cancellationToken: linked.Token);
            var writeGate = new SemaphoreSlim(1, 1);
            IAsyncEnumerator<WatchResponse>? responses = null;
            Task? progressLoop = null;
            Exception? broken = null;
            try
            {
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest
                    {
                        Key = ByteString.CopyFromUtf8(prefix),
                        RangeEnd = PrefixEnd(prefix),
                        StartRevision = last + 1,
                        PrevKv = true,
                        ProgressNotify = true,
                    },
                }, linked.Token);
                progressLoop = RequestProgressAsync(call, writeGate, linked.Token);
                createdAt = DateTime.UtcNow;
                responses = call.ResponseStream.ReadAllAsync(linked.Token).GetAsyncEnumerator(linked.Token);
            }
            catch (RpcException ex) when (EtcdEndpoints.IsTransportFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                broken = ex;
            }

            while (broken is null)
            {
                WatchResponse response;
                try
                {
                    if (!await responses!.MoveNextAsync())
                    {
                        broken = new IOException("etcd closed the watch stream");
                        break;
                    }

                    response = responses.Current;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                catch (RpcException ex) when (!_closed.IsCancellationRequested)
                {
                    broken = ex;
                    break;
                }
                catch (RpcException) when (_closed.IsCancellationRequested)
                {
                    throw new WatchEndedException(last, "the datastore was closed");
                }

                if (response.Canceled)
                {
                    if (response.CompactRevision > 0)
                    {
                        RaiseCompactRevision(response.CompactRevision);
                        throw new CompactedException(last + 1, response.CompactRevision);
                    }

                    broken = new IOException($"etcd cancelled the watch: {response.CancelReason}");
                    break;
                }

                failures = 0;
                brokenSince = null;
                if (response.Created && response.Events.Count == 0)
                {
                    continue;
                }

                if (response.Events.Count == 0)
                {
                    if (response.Header.Revision > last && DateTime.UtcNow - createdAt >= ProgressSettle)
                    {
                        last = response.Header.Revision;
                        yield return WatchEvent.ProgressAt(last);
                    }

                    continue;
                }

                foreach (var e in response.Events)
                {
                    if (e.Kv.ModRevision <= last)
                    {
                        continue; // already delivered before a reconnect
                    }

                    last = e.Kv.ModRevision;
                    yield return ToEvent(e);
                }
            }

            if (progressLoop is not null)
            {
                await linked.CancelAsync();
                await progressLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (responses is not null)
            {
                await responses.DisposeAsync().AsTask().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            writeGate.Dispose();
            if (_closed.IsCancellationRequested)
            {
                throw new WatchEndedException(last, "the datastore was closed");
            }

            LogWatchBroken(_endpoints.Urls[index], last, broken!.Message);
            _endpoints.Failed(index);
            failures++;
            brokenSince ??= DateTime.UtcNow;
            if (DateTime.UtcNow - brokenSince > ReconnectFor)
            {
                throw new WatchEndedException(last, $"etcd is unreachable: {broken.Message}", broken);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 * Math.Min(failures, 10)), cancellationToken);
        }
    }

    private static async Task RequestProgressAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(ProgressInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or InvalidOperationException)
        {
            // the stream ended; the reader notices and reconnects
        }
    }

    private static WatchEvent ToEvent(Event e)
    {
        var previous = e.PrevKv is { Key.IsEmpty: false } ? ToKeyValue(e.PrevKv) : null;
        if (e.Type == Event.Types.EventType.Delete)
        {
            var kv = new KeyValue(e.Kv.Key.ToStringUtf8(), [], previous?.CreateRevision ?? 0, e.Kv.ModRevision);
            return new WatchEvent(WatchEventType.Delete, kv, previous);
        }

        return new WatchEvent(WatchEventType.Put, ToKeyValue(e.Kv), previous);
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "etcd watch on {Endpoint} broke after revision {Revision}, resuming: {Reason}")]
    private partial void LogWatchBroken(string endpoint, long revision, string reason);
}
