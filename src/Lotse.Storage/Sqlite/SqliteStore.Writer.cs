using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Sqlite;

public sealed partial class SqliteStore
{
    private SqliteCommand _latest = null!;
    private SqliteCommand _insert = null!;
    private SqliteCommand _setCurrent = null!;
    private SqliteCommand _deleteCurrent = null!;

    private void PrepareWriterCommands()
    {
        _latest = _writer.CreateCommand();
        _latest.CommandText = SqliteSchema.Latest;
        _latest.Parameters.Add("$name", SqliteType.Text);
        _latest.Prepare();

        _insert = _writer.CreateCommand();
        _insert.CommandText = SqliteSchema.Insert;
        foreach (var name in (string[])["$name", "$created", "$deleted", "$create_revision", "$prev_revision", "$lease", "$expires", "$value"])
        {
            _insert.Parameters.Add(new SqliteParameter(name, null));
        }

        _insert.Prepare();

        _setCurrent = _writer.CreateCommand();
        _setCurrent.CommandText = SqliteSchema.SetCurrent;
        _setCurrent.Parameters.Add("$name", SqliteType.Text);
        _setCurrent.Parameters.Add("$id", SqliteType.Integer);
        _setCurrent.Prepare();

        _deleteCurrent = _writer.CreateCommand();
        _deleteCurrent.CommandText = SqliteSchema.DeleteCurrent;
        _deleteCurrent.Parameters.Add("$name", SqliteType.Text);
        _deleteCurrent.Prepare();
    }

    private void DisposeWriterCommands()
    {
        _latest.Dispose();
        _insert.Dispose();
        _setCurrent.Dispose();
        _deleteCurrent.Dispose();
    }

    private async Task<WriteResult> EnqueueAsync(WriteOp op, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (!_queue.Writer.TryWrite(op))
        {
            throw new StoreUnavailableException($"the datastore {_path} is closed");
        }

        // A cancelled caller stops waiting; the write itself may still be committed (as with etcd).
        return await op.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The single writer: takes whatever is queued (up to MaxBatch), applies it in one transaction,
    /// commits (one fsync), then acknowledges every write and publishes the events. A failed commit
    /// fails the whole batch and nothing of it is visible.
    /// </summary>
    private async Task WriterLoopAsync()
    {
        var batch = new List<WriteOp>(_tuning.MaxBatch);
        var events = new List<WatchEvent>(_tuning.MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            events.Clear();
            while (batch.Count < _tuning.MaxBatch && _queue.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            var revision = _revision;
            try
            {
                using (var transaction = _writer.BeginTransaction(deferred: false))
                {
                    foreach (var op in batch)
                    {
                        revision = Apply(op, revision, transaction);
                        if (op.Event is not null)
                        {
                            events.Add(op.Event);
                        }
                    }

                    transaction.Commit();
                }

                if (events.Count > 0)
                {
                    _ring.Append(events);
                }

                Volatile.Write(ref _revision, revision);
                foreach (var op in batch)
                {
                    op.Completion.TrySetResult(op.Result);
                }

                Signal();
            }
            catch (Exception ex) when (ex is SqliteException or InvalidOperationException or IOException)
            {
                LogBatchFailed(batch.Count, ex.Message);
                var error = Unavailable(ex);
                foreach (var op in batch)
                {
                    op.Completion.TrySetException(error);
                }
            }
        }
    }

    /// <summary>Applies one write inside the open transaction; returns the store's revision after it.</summary>
    private long Apply(WriteOp op, long revision, SqliteTransaction transaction)
    {
        op.Event = null;
        if (op.Kind == WriteKind.Maintenance)
        {
            var affected = op.Maintenance!(_writer);
            op.Result = new WriteResult(WriteStatus.Ok, revision, null);
            _ = affected;
            return revision;
        }

        _latest.Transaction = transaction;
        _latest.Parameters[0].Value = op.Key;
        KeyValue? current = null;
        long newestRow = 0; // the key's newest row, a tombstone included, which the new row supersedes
        using (var reader = _latest.ExecuteReader())
        {
            if (reader.Read())
            {
                newestRow = reader.GetInt64(0);
                if (reader.GetInt64(2) == 0)
                {
                    current = new KeyValue(op.Key, reader.IsDBNull(3) ? [] : (byte[])reader.GetValue(3), reader.GetInt64(1), newestRow, reader.GetInt64(4));
                }
            }
        }

        switch (op.Kind)
        {
            case WriteKind.Create when current is not null:
                op.Result = new WriteResult(WriteStatus.AlreadyExists, revision, current);
                return revision;
            case WriteKind.Update or WriteKind.Delete when current is null:
                op.Result = new WriteResult(WriteStatus.NotFound, revision, null);
                return revision;
            case WriteKind.Update or WriteKind.Delete when op.ExpectedModRevision != 0 && op.ExpectedModRevision != current!.ModRevision:
                op.Result = new WriteResult(WriteStatus.Conflict, revision, current);
                return revision;
        }

        // The only writer, with AUTOINCREMENT: the new row's id is the next revision.
        var id = revision + 1;
        var delete = op.Kind == WriteKind.Delete;
        var createRevision = current?.CreateRevision ?? id;
        var expires = op.TtlSeconds > 0 ? _time.GetUtcNow().ToUnixTimeSeconds() + op.TtlSeconds : 0;
        _insert.Transaction = transaction;
        var p = _insert.Parameters;
        p[0].Value = op.Key;
        p[1].Value = current is null ? 1 : 0;
        p[2].Value = delete ? 1 : 0;
        p[3].Value = createRevision;
        p[4].Value = newestRow;
        p[5].Value = op.TtlSeconds;
        p[6].Value = expires;
        p[7].Value = delete ? DBNull.Value : op.Value!;
        var inserted = (long)_insert.ExecuteScalar()!;
        if (inserted != id)
        {
            throw new InvalidOperationException($"revision sequence broken: expected row {id}, got {inserted}");
        }

        if (delete)
        {
            _deleteCurrent.Transaction = transaction;
            _deleteCurrent.Parameters[0].Value = op.Key;
            _deleteCurrent.ExecuteNonQuery();
        }
        else
        {
            _setCurrent.Transaction = transaction;
            _setCurrent.Parameters[0].Value = op.Key;
            _setCurrent.Parameters[1].Value = id;
            _setCurrent.ExecuteNonQuery();
        }

        if (delete)
        {
            var tombstone = new KeyValue(op.Key, [], current!.CreateRevision, id);
            op.Result = new WriteResult(WriteStatus.Ok, id, current);
            op.Event = new WatchEvent(WatchEventType.Delete, tombstone, current);
        }
        else
        {
            var kv = new KeyValue(op.Key, op.Value!, createRevision, id, op.TtlSeconds);
            op.Result = new WriteResult(WriteStatus.Ok, id, kv);
            op.Event = new WatchEvent(WatchEventType.Put, kv, current);
        }

        return id;
    }

    private void Signal()
    {
        TaskCompletionSource signal;
        lock (_signalGate)
        {
            signal = _committed;
            _committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    /// <summary>A task that completes at the next commit (or when the store closes).</summary>
    private Task NextCommit()
    {
        lock (_signalGate)
        {
            return _committed.Task;
        }
    }

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Datastore write batch of {Count} failed and was rolled back: {Reason}")]
    private partial void LogBatchFailed(int count, string reason);
}
