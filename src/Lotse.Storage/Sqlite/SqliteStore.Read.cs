using Microsoft.Data.Sqlite;

namespace Lotse.Storage.Sqlite;

public sealed partial class SqliteStore
{
    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await Task.Yield(); // reads run off the caller's thread, concurrently with the writer
        try
        {
            using var connection = OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = SqliteSchema.Latest;
            command.Parameters.AddWithValue("$name", key);
            using var reader = command.ExecuteReader();
            if (!reader.Read() || reader.GetInt64(2) != 0)
            {
                return null;
            }

            return new KeyValue(key, reader.IsDBNull(3) ? [] : (byte[])reader.GetValue(3), reader.GetInt64(1), reader.GetInt64(0), reader.GetInt64(4));
        }
        catch (SqliteException ex)
        {
            throw Unavailable(ex);
        }
    }

    public async Task<RangeResult> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await Task.Yield();
        var current = Volatile.Read(ref _revision);
        var revision = request.AtRevision > 0 ? request.AtRevision : current;
        if (revision > current)
        {
            throw new FutureRevisionException(request.AtRevision, current);
        }

        var start = request.ContinueAfterKey is { } after ? after + "\0" : request.Prefix;
        var end = PrefixEnd(request.Prefix);
        try
        {
            using var connection = OpenReader();
            using var transaction = connection.BeginTransaction(deferred: true); // one snapshot for rows and count
            CheckCompacted(connection, transaction, request.AtRevision);

            // The snapshot's own revision: reads "now", or at a revision nothing has been written after,
            // use the current-keys table; older revisions resolve each key's row from the log.
            using (var snapshot = connection.CreateCommand())
            {
                snapshot.Transaction = transaction;
                snapshot.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0)";
                var snapshotRevision = (long)snapshot.ExecuteScalar()!;
                if (request.AtRevision == 0)
                {
                    revision = snapshotRevision;
                }

                var now = revision == snapshotRevision;
                var items = new List<KeyValue>();
                if (!request.CountOnly)
                {
                    using var command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = now ? SqliteSchema.RangeNow : SqliteSchema.RangeAt;
                    Bind(command, start, end, revision);
                    command.Parameters.AddWithValue("$limit", request.Limit > 0 ? request.Limit : -1);
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                    {
                        items.Add(new KeyValue(reader.GetString(0), reader.IsDBNull(3) ? [] : (byte[])reader.GetValue(3), reader.GetInt64(2), reader.GetInt64(1), reader.GetInt64(4)));
                    }
                }

                long count = items.Count;
                if (request.CountOnly || (request.Limit > 0 && items.Count == request.Limit))
                {
                    using var countCommand = connection.CreateCommand();
                    countCommand.Transaction = transaction;
                    countCommand.CommandText = now ? SqliteSchema.CountNow : SqliteSchema.CountAt;
                    Bind(countCommand, start, end, revision);
                    count = (long)countCommand.ExecuteScalar()!;
                }

                return new RangeResult(items, revision, items.Count < count, count);
            }
        }
        catch (SqliteException ex)
        {
            throw Unavailable(ex);
        }
    }

    private static void Bind(SqliteCommand command, string start, string end, long revision)
    {
        command.Parameters.AddWithValue("$start", start);
        command.Parameters.AddWithValue("$end", end);
        command.Parameters.AddWithValue("$revision", revision);
    }

    /// <summary>A read at a past revision must not reach below the last compaction (checked inside the read's snapshot).</summary>
    private void CheckCompacted(SqliteConnection connection, SqliteTransaction transaction, long atRevision)
    {
        if (atRevision <= 0)
        {
            return;
        }

        var compacted = Volatile.Read(ref _compactRevision);
        if (atRevision < compacted)
        {
            throw new CompactedException(atRevision, compacted);
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM meta WHERE key = 'compact_revision'";
        compacted = (long)command.ExecuteScalar()!;
        if (atRevision < compacted)
        {
            throw new CompactedException(atRevision, compacted);
        }
    }
}
