using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Sqlite;

/// <summary>
/// The embedded datastore: an append-only revision log in SQLite (WAL, synchronous=FULL) with etcd's
/// semantics. Writes go through one writer task that commits them in groups (one fsync for many
/// writes); reads run concurrently on pooled connections over WAL snapshots; watches are fed from
/// an in-memory ring of recent events, falling back to the log when they lag, so they never skip.
/// See docs/storage-sqlite.md.
/// </summary>
public sealed partial class SqliteStore : IStore
{
    private readonly string _path;
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly FileStream _lock;
    private readonly Channel<WriteOp> _queue = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly EventRing _ring;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteStore> _logger;
    private readonly SqliteStoreTuning _tuning;
    private readonly Task _writerLoop;
    private readonly Task _maintenanceLoop;
    private long _revision;
    private long _compactRevision;
    private TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _signalGate = new();
    private int _disposed;

    private SqliteStore(string path, SqliteConnection writer, FileStream lockFile, long revision, long compactRevision, TimeProvider time, ILogger<SqliteStore> logger, SqliteStoreTuning tuning)
    {
        _path = path;
        _writer = writer;
        _lock = lockFile;
        _revision = revision;
        _compactRevision = compactRevision;
        _time = time;
        _logger = logger;
        _tuning = tuning;
        _ring = new EventRing(tuning.RingCapacity);
        _readConnectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Cache = SqliteCacheMode.Private, Pooling = true, DefaultTimeout = 30 }.ToString();
        PrepareWriterCommands();
        _writerLoop = Task.Run(WriterLoopAsync);
        _maintenanceLoop = Task.Run(() => MaintenanceLoopAsync(_stop.Token));
    }

    public static Task<IStore> OpenAsync(StoreOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        OpenAsync(options, loggerFactory, new SqliteStoreTuning(), cancellationToken);

    internal static async Task<IStore> OpenAsync(StoreOptions options, ILoggerFactory loggerFactory, SqliteStoreTuning tuning, CancellationToken cancellationToken = default)
    {
        var path = Path.GetFullPath(options.SqlitePath);
        var (writer, lockFile, revision, compactRevision) = await Task.Run(() => SqliteOpener.Open(path), cancellationToken);
        return new SqliteStore(path, writer, lockFile, revision, compactRevision, tuning.Time ?? TimeProvider.System, loggerFactory.CreateLogger<SqliteStore>(), tuning);
    }

    public ValueTask<long> GetCurrentRevisionAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return ValueTask.FromResult(Volatile.Read(ref _revision));
    }

    public ValueTask<long> GetCompactRevisionAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return ValueTask.FromResult(Volatile.Read(ref _compactRevision));
    }

    public Task<WriteResult> CreateAsync(string key, byte[] value, long ttlSeconds = 0, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new WriteOp(WriteKind.Create, key, value, 0, ttlSeconds), cancellationToken);

    public Task<WriteResult> UpdateAsync(string key, byte[] value, long expectedModRevision, long ttlSeconds = 0, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new WriteOp(WriteKind.Update, key, value, expectedModRevision, ttlSeconds), cancellationToken);

    public Task<WriteResult> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new WriteOp(WriteKind.Delete, key, null, expectedModRevision, 0), cancellationToken);

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Unavailable(ex);
        }
    }

    private StoreUnavailableException Unavailable(Exception ex) =>
        new($"the datastore {_path} failed: {ex.Message.ReplaceLineEndings(" ")}", ex);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>The smallest key greater than every key with this prefix (etcd's prefix range end).</summary>
    internal static string PrefixEnd(string prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < char.MaxValue && !char.IsSurrogate(prefix[i]))
            {
                return string.Concat(prefix.AsSpan(0, i), ((char)(prefix[i] + 1)).ToString());
            }
        }

        return "\U0010FFFF\U0010FFFF";
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stop.CancelAsync();
        await _maintenanceLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Signal(); // wakes watchers so they see the store is closed
        try
        {
            using var checkpoint = _writer.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            LogCheckpointFailed(ex.Message);
        }

        DisposeWriterCommands();
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_readConnectionString));
        await _lock.DisposeAsync();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Datastore checkpoint failed: {Reason}")]
    private partial void LogCheckpointFailed(string reason);
}
