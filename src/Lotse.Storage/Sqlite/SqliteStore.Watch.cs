using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Lotse.Storage.Sqlite;

public sealed partial class SqliteStore
{
    private const int LogPageSize = 1000;

    /// <summary>
    /// A watcher keeps its position (the last revision it has passed) and, on every commit signal,
    /// takes the events after it from the ring — or, when it has fallen behind the ring, from the
    /// log in pages. Nothing polls; nothing is skipped; memory per watcher is one page at most.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var position = afterRevision;
        var end = PrefixEnd(prefix);
        var batch = new List<WatchEvent>();
        var reportedProgress = position;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = NextCommit();
            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new WatchEndedException(position, "the datastore was closed");
            }

            var compacted = Volatile.Read(ref _compactRevision);
            if (position < compacted)
            {
                throw new CompactedException(position + 1, compacted);
            }

            var upTo = Volatile.Read(ref _revision);
            batch.Clear();
            if (!_ring.TryGetAfter(position, upTo, batch))
            {
                upTo = Math.Min(upTo, position + LogPageSize);
                await ReadLogAsync(prefix, end, position, upTo, batch, cancellationToken);
            }

            var delivered = false;
            foreach (var e in batch)
            {
                if (e.Kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    yield return e;
                    delivered = true;
                }
            }

            if (upTo > position)
            {
                position = upTo;
                if (!delivered && position > reportedProgress)
                {
                    // Nothing under this prefix changed, but the store moved on: say so, as etcd's progress notify does.
                    yield return WatchEvent.ProgressAt(position);
                }

                reportedProgress = position;
                continue; // there may be more (a log page, or commits meanwhile)
            }

            await signal.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Reads log rows (after, upTo] under the prefix, rebuilding events with their previous values.</summary>
    private async Task ReadLogAsync(string prefix, string end, long after, long upTo, List<WatchEvent> into, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            using var connection = OpenReader();
            using var transaction = connection.BeginTransaction(deferred: true);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = SqliteSchema.LogAfter;
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$upto", upTo);
            command.Parameters.AddWithValue("$start", prefix);
            command.Parameters.AddWithValue("$end", end);
            command.Parameters.AddWithValue("$limit", LogPageSize);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var id = reader.GetInt64(0);
                var key = reader.GetString(1);
                var deleted = reader.GetInt64(2) != 0;
                KeyValue? previous = null;
                if (!reader.IsDBNull(6) && reader.GetInt64(10) == 0)
                {
                    previous = new KeyValue(key, reader.IsDBNull(8) ? [] : (byte[])reader.GetValue(8), reader.GetInt64(7), reader.GetInt64(6), reader.GetInt64(9));
                }

                into.Add(deleted
                    ? new WatchEvent(WatchEventType.Delete, new KeyValue(key, [], reader.GetInt64(3), id), previous)
                    : new WatchEvent(WatchEventType.Put, new KeyValue(key, reader.IsDBNull(4) ? [] : (byte[])reader.GetValue(4), reader.GetInt64(3), id, reader.GetInt64(5)), previous));
            }

            // Rows read under a compaction that started meanwhile may be incomplete: re-check inside the snapshot.
            using var check = connection.CreateCommand();
            check.Transaction = transaction;
            check.CommandText = "SELECT value FROM meta WHERE key = 'compact_revision'";
            var compacted = (long)check.ExecuteScalar()!;
            if (after < compacted)
            {
                throw new CompactedException(after + 1, compacted);
            }
        }
        catch (SqliteException ex)
        {
            throw Unavailable(ex);
        }

    }
}
