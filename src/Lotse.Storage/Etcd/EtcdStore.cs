using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Lotse.Storage.Etcd.Wire;
using Microsoft.Extensions.Logging;
using Wire = Lotse.Storage.Etcd.Wire;

namespace Lotse.Storage.Etcd;

/// <summary>
/// The store over a real etcd cluster (v3 gRPC API). Each conditional write is one Txn whose compare
/// is the condition (create revision 0 for create, the expected mod revision for update/delete) and
/// whose failure branch reads the key back, so a conflict costs one round trip and returns the
/// current value. See docs/storage-etcd.md.
/// </summary>
public sealed partial class EtcdStore : IStore
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private readonly EtcdEndpoints _endpoints;
    private readonly EtcdLeases _leases;
    private readonly ILogger<EtcdStore> _logger;
    private readonly CancellationTokenSource _closed = new();
    private long _compactRevision;

    private EtcdStore(EtcdEndpoints endpoints, ILogger<EtcdStore> logger)
    {
        _endpoints = endpoints;
        _logger = logger;
        _leases = new EtcdLeases(this);
    }

    /// <summary>The channel in use (benchmarks measure raw etcd calls through the very same one).</summary>
    internal Grpc.Net.Client.GrpcChannel Channel => _endpoints.Current.Channel;

    public static async Task<IStore> ConnectAsync(StoreOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        var endpoints = new EtcdEndpoints(options);
        var store = new EtcdStore(endpoints, loggerFactory.CreateLogger<EtcdStore>());
        try
        {
            // Any member that answers will do; each gets a short deadline so a dead cluster is a quick, clear error.
            await store.CallAsync(async (channel, ct) =>
            {
                var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: ct);
                return status.Version;
            }, cancellationToken);
            await store.LearnCompactRevisionAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async ValueTask<long> GetCurrentRevisionAsync(CancellationToken cancellationToken = default)
    {
        var response = await RangeRawAsync(new Wire.RangeRequest { Key = ByteString.CopyFromUtf8("\0"), CountOnly = true }, cancellationToken);
        return response.Header.Revision;
    }

    public ValueTask<long> GetCompactRevisionAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Volatile.Read(ref _compactRevision));

    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await RangeRawAsync(new Wire.RangeRequest { Key = ByteString.CopyFromUtf8(key) }, cancellationToken);
        return response.Kvs.Count == 0 ? null : ToKeyValue(response.Kvs[0]);
    }

    public async Task<RangeResult> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default)
    {
        var start = request.ContinueAfterKey is { } after ? after + "\0" : request.Prefix;
        var wire = new Wire.RangeRequest
        {
            Key = ByteString.CopyFromUtf8(start),
            RangeEnd = PrefixEnd(request.Prefix),
            Limit = request.Limit,
            Revision = request.AtRevision,
            CountOnly = request.CountOnly,
        };
        Wire.RangeResponse response;
        try
        {
            response = await RangeRawAsync(wire, cancellationToken);
        }
        catch (CompactedException)
        {
            RaiseCompactRevision(request.AtRevision + 1);
            throw new CompactedException(request.AtRevision, Volatile.Read(ref _compactRevision));
        }
        catch (FutureRevisionException)
        {
            throw new FutureRevisionException(request.AtRevision, await GetCurrentRevisionAsync(cancellationToken));
        }

        var revision = request.AtRevision > 0 ? request.AtRevision : response.Header.Revision;
        return new RangeResult([.. response.Kvs.Select(ToKeyValue)], revision, response.More, response.Count);
    }

    public async Task<WriteResult> CreateAsync(string key, byte[] value, long ttlSeconds = 0, CancellationToken cancellationToken = default)
    {
        var lease = ttlSeconds > 0 ? await _leases.ForTtlAsync(ttlSeconds, cancellationToken) : 0;
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = k, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFrom(value), Lease = lease } } },
            Failure = { new RequestOp { RequestRange = new Wire.RangeRequest { Key = k } } },
        };
        var response = await TxnAsync(txn, cancellationToken);
        var revision = response.Header.Revision;
        if (response.Succeeded)
        {
            return new WriteResult(WriteStatus.Ok, revision, new KeyValue(key, value, revision, revision, lease));
        }

        return new WriteResult(WriteStatus.AlreadyExists, revision, FirstKv(response));
    }

    public async Task<WriteResult> UpdateAsync(string key, byte[] value, long expectedModRevision, long ttlSeconds = 0, CancellationToken cancellationToken = default)
    {
        var lease = ttlSeconds > 0 ? await _leases.ForTtlAsync(ttlSeconds, cancellationToken) : 0;
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest
        {
            Compare = { Condition(k, expectedModRevision) },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFrom(value), Lease = lease, PrevKv = true } } },
            Failure = { new RequestOp { RequestRange = new Wire.RangeRequest { Key = k } } },
        };
        var response = await TxnAsync(txn, cancellationToken);
        var revision = response.Header.Revision;
        if (response.Succeeded)
        {
            var previous = response.Responses[0].ResponsePut.PrevKv;
            var createRevision = previous is null ? revision : previous.CreateRevision;
            return new WriteResult(WriteStatus.Ok, revision, new KeyValue(key, value, createRevision, revision, lease));
        }

        var current = FirstKv(response);
        return new WriteResult(current is null ? WriteStatus.NotFound : WriteStatus.Conflict, revision, current);
    }

    public async Task<WriteResult> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default)
    {
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest
        {
            Compare = { Condition(k, expectedModRevision) },
            Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = k, PrevKv = true } } },
            Failure = { new RequestOp { RequestRange = new Wire.RangeRequest { Key = k } } },
        };
        var response = await TxnAsync(txn, cancellationToken);
        var revision = response.Header.Revision;
        if (response.Succeeded)
        {
            var previous = response.Responses[0].ResponseDeleteRange.PrevKvs;
            return new WriteResult(WriteStatus.Ok, revision, previous.Count > 0 ? ToKeyValue(previous[0]) : null);
        }

        var current = FirstKv(response);
        return new WriteResult(current is null ? WriteStatus.NotFound : WriteStatus.Conflict, revision, current);
    }

    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        if (revision <= Volatile.Read(ref _compactRevision))
        {
            return;
        }

        try
        {
            await CallAsync(async (channel, ct) =>
            {
                await new KV.KVClient(channel).CompactAsync(new CompactionRequest { Revision = revision }, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: ct);
                return 0;
            }, cancellationToken);
        }
        catch (CompactedException)
        {
            // already compacted at or beyond this revision: nothing to do
        }
        catch (FutureRevisionException ex)
        {
            await CompactAsync(ex.CurrentRevision, cancellationToken);
            return;
        }

        RaiseCompactRevision(revision);
    }

    private void RaiseCompactRevision(long revision)
    {
        long seen;
        while ((seen = Volatile.Read(ref _compactRevision)) < revision && Interlocked.CompareExchange(ref _compactRevision, revision, seen) != seen)
        {
        }
    }

    /// <summary>
    /// etcd does not report its compact revision; a binary search for the oldest readable revision
    /// with count-only reads finds it (about log2(revision) cheap calls, once, at connect).
    /// </summary>
    private async Task LearnCompactRevisionAsync(CancellationToken cancellationToken)
    {
        var current = await GetCurrentRevisionAsync(cancellationToken);
        if (current <= 1)
        {
            return;
        }

        long lo = 1, hi = current; // reads at hi always succeed
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            try
            {
                await RangeRawAsync(new Wire.RangeRequest { Key = ByteString.CopyFromUtf8("\0"), CountOnly = true, Revision = mid }, cancellationToken);
                hi = mid;
            }
            catch (CompactedException)
            {
                lo = mid + 1;
            }
        }

        RaiseCompactRevision(lo == 1 ? 0 : lo);
    }

    private static Compare Condition(ByteString key, long expectedModRevision) => expectedModRevision == 0
        ? new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 }
        : new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision };

    private static KeyValue? FirstKv(TxnResponse response) =>
        response.Responses.Count > 0 && response.Responses[0].ResponseRange is { Kvs.Count: > 0 } range ? ToKeyValue(range.Kvs[0]) : null;

    internal static KeyValue ToKeyValue(Wire.KeyValue kv) =>
        new(kv.Key.ToStringUtf8(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Lease);

    /// <summary>etcd's range end for a prefix: the prefix with its last byte incremented.</summary>
    internal static ByteString PrefixEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0); // "\0": every key
    }

    private Task<Wire.RangeResponse> RangeRawAsync(Wire.RangeRequest request, CancellationToken cancellationToken) =>
        CallAsync((channel, ct) => new KV.KVClient(channel).RangeAsync(request, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: ct).ResponseAsync, cancellationToken);

    private Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        CallAsync((channel, ct) => new KV.KVClient(channel).TxnAsync(request, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: ct).ResponseAsync, cancellationToken);

    /// <summary>
    /// Runs a call on the current endpoint, moving to the next on transport failures (each endpoint
    /// at most once per call), and maps etcd's errors to the store's exceptions.
    /// </summary>
    internal async Task<T> CallAsync<T>(Func<Grpc.Net.Client.GrpcChannel, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed.IsCancellationRequested, this);
        RpcException? last = null;
        for (var attempt = 0; attempt < _endpoints.Count; attempt++)
        {
            var (index, channel) = _endpoints.Current;
            try
            {
                return await call(channel, cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (RpcException ex) when (EtcdEndpoints.IsTransportFailure(ex))
            {
                last = ex;
                LogEndpointFailed(_endpoints.Urls[index], ex.Status.Detail);
                _endpoints.Failed(index);
            }
            catch (RpcException ex)
            {
                throw Map(ex);
            }
        }

        throw new StoreUnavailableException($"etcd at {string.Join(",", _endpoints.Urls)} is unreachable: {last?.Status.Detail ?? "no endpoint answered"}", last);
    }

    private StoreException Map(RpcException ex)
    {
        var detail = ex.Status.Detail;
        if (detail.Contains("required revision has been compacted", StringComparison.Ordinal))
        {
            return new CompactedException(0, Volatile.Read(ref _compactRevision));
        }

        if (detail.Contains("required revision is a future revision", StringComparison.Ordinal))
        {
            return new FutureRevisionException(0, 0);
        }

        return new StoreUnavailableException($"etcd error: {detail}", ex);
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        await _closed.CancelAsync();
        _endpoints.Dispose();
        _closed.Dispose();
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "etcd endpoint {Endpoint} failed, trying the next: {Reason}")]
    private partial void LogEndpointFailed(string endpoint, string reason);
}
