namespace Lotse.Storage.Sqlite;

/// <summary>
/// The on-disk layout: one append-only log of key revisions (kine's shape) and a small meta table.
/// A row is one write: <c>id</c> is its revision, <c>prev_revision</c> the row it superseded (0 if
/// none), <c>deleted</c> marks tombstones. The latest row of a key is its current state.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Bumped when the layout changes; a database from a newer Lotse is refused, never rewritten.</summary>
    public const long Version = 1;

    public const string Create = """
        CREATE TABLE IF NOT EXISTS kv (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            created INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            create_revision INTEGER NOT NULL,
            prev_revision INTEGER NOT NULL,
            lease INTEGER NOT NULL DEFAULT 0,
            expires INTEGER NOT NULL DEFAULT 0,
            value BLOB
        );
        CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
        CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires > 0;
        CREATE TABLE IF NOT EXISTS current (
            name TEXT PRIMARY KEY,
            id INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', 1), ('compact_revision', 0), ('compact_progress', 0);
        """;

    public const string Latest = "SELECT id, create_revision, deleted, value, lease FROM kv WHERE name = $name ORDER BY id DESC LIMIT 1";

    public const string Insert = """
        INSERT INTO kv (name, created, deleted, create_revision, prev_revision, lease, expires, value)
        VALUES ($name, $created, $deleted, $create_revision, $prev_revision, $lease, $expires, $value)
        RETURNING id
        """;

    /// <summary>The live keys of a range now (the writer keeps <c>current</c> in step with the log).</summary>
    public const string RangeNow = """
        SELECT c.name, kv.id, kv.create_revision, kv.value, kv.lease
        FROM current AS c JOIN kv ON kv.id = c.id
        WHERE c.name >= $start AND c.name < $end
        ORDER BY c.name
        LIMIT $limit
        """;

    public const string CountNow = "SELECT COUNT(*) FROM current WHERE name >= $start AND name < $end";

    public const string SetCurrent = "INSERT INTO current (name, id) VALUES ($name, $id) ON CONFLICT (name) DO UPDATE SET id = excluded.id";

    public const string DeleteCurrent = "DELETE FROM current WHERE name = $name";

    /// <summary>The live keys of a range at a revision: each key's newest row at or below it, unless a tombstone.</summary>
    public const string RangeAt = """
        SELECT kv.name, kv.id, kv.create_revision, kv.value, kv.lease
        FROM kv JOIN (
            SELECT MAX(id) AS id FROM kv
            WHERE name >= $start AND name < $end AND id <= $revision
            GROUP BY name
        ) latest ON latest.id = kv.id
        WHERE kv.deleted = 0
        ORDER BY kv.name
        LIMIT $limit
        """;

    public const string CountAt = """
        SELECT COUNT(*) FROM kv JOIN (
            SELECT MAX(id) AS id FROM kv
            WHERE name >= $start AND name < $end AND id <= $revision
            GROUP BY name
        ) latest ON latest.id = kv.id
        WHERE kv.deleted = 0
        """;

    /// <summary>Log rows after a revision within a key range, with the row each superseded (for previous values).</summary>
    public const string LogAfter = """
        SELECT kv.id, kv.name, kv.deleted, kv.create_revision, kv.value, kv.lease,
               prev.id, prev.create_revision, prev.value, prev.lease, prev.deleted
        FROM kv LEFT JOIN kv AS prev ON prev.id = kv.prev_revision
        WHERE kv.id > $after AND kv.id <= $upto AND kv.name >= $start AND kv.name < $end
        ORDER BY kv.id
        LIMIT $limit
        """;
}
