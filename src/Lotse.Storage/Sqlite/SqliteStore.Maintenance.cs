using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>
    /// Compaction (etcd's, on kine's log): every row superseded at or below the revision, and every
    /// tombstone at or below it, is removed — in transactions of a few hundred revisions queued behind
    /// ordinary writes, so no writer waits long. The compact revision is recorded first (reads and
    /// watches below it fail from then on) and the progress after each batch (a crash resumes it).
    /// </summary>
    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        revision = Math.Min(revision, Volatile.Read(ref _revision));
        if (revision <= Volatile.Read(ref _compactRevision))
        {
            return;
        }

        await RunMaintenanceAsync(connection =>
        {
            SetMeta(connection, "compact_revision", revision);
            return 0;
        }, cancellationToken);
        Volatile.Write(ref _compactRevision, revision);
        await ContinueCompactionAsync(cancellationToken);
    }

    /// <summary>Removes history up to the recorded compact revision, batch by batch, then returns free pages to the file system.</summary>
    private async Task ContinueCompactionAsync(CancellationToken cancellationToken)
    {
        var target = Volatile.Read(ref _compactRevision);
        var step = _tuning.CompactionBatchRevisions;
        while (true)
        {
            var done = await RunMaintenanceAsync(connection =>
            {
                var progress = GetMeta(connection, "compact_progress");
                if (progress >= target)
                {
                    return -1;
                }

                var high = Math.Min(progress + step, target);
                using var command = connection.CreateCommand();
                // Rows superseded by a row in (progress, high] are history; so are tombstones in it.
                command.CommandText = """
                    DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > $low AND id <= $high AND prev_revision > 0);
                    DELETE FROM kv WHERE id > $low AND id <= $high AND deleted = 1;
                    """;
                command.Parameters.AddWithValue("$low", progress);
                command.Parameters.AddWithValue("$high", high);
                command.ExecuteNonQuery();
                SetMeta(connection, "compact_progress", high);
                return high;
            }, cancellationToken);
            if (done < 0)
            {
                break;
            }
        }

        // Free pages go back to the file system a slice at a time (auto_vacuum = INCREMENTAL).
        while (await RunMaintenanceAsync(connection =>
        {
            using var freelist = connection.CreateCommand();
            freelist.CommandText = "PRAGMA freelist_count";
            var free = (long)freelist.ExecuteScalar()!;
            if (free == 0)
            {
                return -1;
            }

            using var vacuum = connection.CreateCommand();
            vacuum.CommandText = "PRAGMA incremental_vacuum(2000)";
            vacuum.ExecuteNonQuery();
            return free;
        }, cancellationToken) > 0)
        {
        }
    }

    /// <summary>Runs work on the writer connection inside a queued write transaction.</summary>
    private async Task<long> RunMaintenanceAsync(Func<SqliteConnection, long> work, CancellationToken cancellationToken)
    {
        long outcome = 0;
        var op = new WriteOp(WriteKind.Maintenance, string.Empty, null, 0, 0, connection =>
        {
            outcome = work(connection);
            return outcome;
        });
        await EnqueueAsync(op, cancellationToken);
        return outcome;
    }

    private static long GetMeta(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return (long)(command.ExecuteScalar() ?? 0L);
    }

    private static void SetMeta(SqliteConnection connection, string key, long value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Once a second: delete expired keys (through the writer, so watchers see the deletes), finish
    /// an interrupted compaction, and checkpoint the WAL without blocking anyone (PASSIVE, on its own
    /// connection) — K3s users saw 30-second stalls from checkpoints run inside commits.
    /// </summary>
    private async Task MaintenanceLoopAsync(CancellationToken cancellationToken)
    {
        var resumed = false;
        using var timer = new PeriodicTimer(_tuning.MaintenanceInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    if (!resumed)
                    {
                        resumed = true;
                        await ContinueCompactionAsync(cancellationToken);
                    }

                    await ExpireAsync(cancellationToken);
                    Checkpoint();
                }
                catch (StoreException ex)
                {
                    LogMaintenanceFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ExpireAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var expired = new List<(string Key, long Revision)>();
        using (var connection = OpenReader())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT k.name, k.id FROM kv AS k
                WHERE k.expires > 0 AND k.expires <= $now AND k.deleted = 0
                  AND k.id = (SELECT MAX(id) FROM kv WHERE name = k.name)
                LIMIT 1000
                """;
            command.Parameters.AddWithValue("$now", now);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                expired.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        foreach (var (key, revision) in expired)
        {
            // Conditional on the expired revision: a key rewritten meanwhile keeps its new value.
            await DeleteAsync(key, revision, cancellationToken);
        }
    }

    private void Checkpoint()
    {
        try
        {
            using var connection = OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            LogCheckpointFailed(ex.Message);
        }
    }

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Datastore maintenance failed, will retry: {Reason}")]
    private partial void LogMaintenanceFailed(string reason);
}
