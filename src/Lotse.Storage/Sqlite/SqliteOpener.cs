using System.Text;
using Microsoft.Data.Sqlite;

namespace Lotse.Storage.Sqlite;

/// <summary>
/// Opens the database for writing — after checking, without changing anything, that it is a
/// healthy SQLite file of a schema this build understands. Every refusal is one line naming the
/// file and what to do.
/// </summary>
internal static class SqliteOpener
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("SQLite format 3\0");

    public static (SqliteConnection Writer, FileStream Lock, long Revision, long CompactRevision) Open(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot create the datastore folder {folder}: {ex.Message} (check --data-dir and its permissions)", ex);
        }

        // One server per database: an exclusive lock file, released when the process ends (also on kill -9).
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (File.Exists(path + ".lock") && ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new StoreException($"the datastore {path} is in use by another process (is another lotse server running with this --data-dir?)", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot open the datastore {path}: {ex.Message} (check --data-dir and its permissions)", ex);
        }

        try
        {
            var (writer, revision, compact) = OpenLocked(path);
            return (writer, lockFile, revision, compact);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    private static (SqliteConnection Writer, long Revision, long CompactRevision) OpenLocked(string path)
    {
        var exists = File.Exists(path) && new FileInfo(path).Length > 0;
        if (exists)
        {
            CheckHeader(path);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            if (exists)
            {
                var check = Scalar(connection, "PRAGMA quick_check(1)")?.ToString();
                if (check != "ok")
                {
                    var reason = (check ?? "no answer").ReplaceLineEndings(" ");
                    throw new StoreException($"the datastore {path} is corrupt ({(reason.Length > 120 ? reason[..120] + "…" : reason)}); restore it from a backup or move it away to start empty");
                }

                if (HasTable(connection, "meta") && Convert.ToInt64(Scalar(connection, "SELECT value FROM meta WHERE key = 'schema_version'") ?? 0L) > SqliteSchema.Version)
                {
                    throw new StoreException($"the datastore {path} was written by a newer Lotse (schema {Scalar(connection, "SELECT value FROM meta WHERE key = 'schema_version'")}, this build reads {SqliteSchema.Version}); upgrade lotse");
                }
            }
            else
            {
                // auto_vacuum must be chosen before the first table exists.
                Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL");
            }

            // WAL: readers never block the writer. synchronous=FULL: a commit is on disk (fsync) before
            // it is acknowledged, so acknowledged writes survive a crash of the process or the machine.
            Execute(connection, "PRAGMA journal_mode = WAL");
            Execute(connection, "PRAGMA synchronous = FULL");
            // Checkpoints run in the background (PASSIVE), never inside a writer's commit.
            Execute(connection, "PRAGMA wal_autocheckpoint = 0");
            Execute(connection, "PRAGMA journal_size_limit = 67108864");
            Execute(connection, "PRAGMA busy_timeout = 30000");
            Execute(connection, "PRAGMA cache_size = -16000");
            var hadCurrent = exists && HasTable(connection, "current");
            Execute(connection, SqliteSchema.Create);
            if (!hadCurrent)
            {
                // A log without the current-keys table (or a new file): derive it from the log.
                Execute(connection, """
                    INSERT OR REPLACE INTO current (name, id)
                    SELECT kv.name, kv.id FROM kv JOIN (SELECT MAX(id) AS id FROM kv GROUP BY name) latest ON latest.id = kv.id
                    WHERE kv.deleted = 0
                    """);
            }
            var revision = Convert.ToInt64(Scalar(connection, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0)") ?? 0L);
            var compact = Convert.ToInt64(Scalar(connection, "SELECT value FROM meta WHERE key = 'compact_revision'") ?? 0L);
            return (connection, revision, compact);
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Explain(path, ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void CheckHeader(string path)
    {
        var buffer = new byte[Header.Length];
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read < buffer.Length || !buffer.AsSpan().SequenceEqual(Header))
            {
                throw new StoreException($"the datastore {path} is not a SQLite database; restore it from a backup or move it away to start empty");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot read the datastore {path}: {ex.Message} (check --data-dir and its permissions)", ex);
        }
    }

    private static StoreException Explain(string path, SqliteException ex) => ex.SqliteErrorCode switch
    {
        26 => new StoreException($"the datastore {path} is not a SQLite database; restore it from a backup or move it away to start empty", ex),
        11 => new StoreException($"the datastore {path} is corrupt ({ex.Message.ReplaceLineEndings(" ")}); restore it from a backup or move it away to start empty", ex),
        14 or 3 or 8 => new StoreException($"cannot open the datastore {path}: {ex.Message.ReplaceLineEndings(" ")} (check --data-dir and its permissions)", ex),
        5 or 6 => new StoreException($"the datastore {path} is locked by another process (is another lotse server running with this --data-dir?)", ex),
        _ => new StoreException($"cannot open the datastore {path}: {ex.Message.ReplaceLineEndings(" ")}", ex),
    };

    private static bool HasTable(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is not null;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
