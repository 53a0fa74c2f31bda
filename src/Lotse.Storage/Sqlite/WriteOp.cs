namespace Lotse.Storage.Sqlite;

internal enum WriteKind
{
    Create,
    Update,
    Delete,
    Maintenance,
}

/// <summary>One queued write; the writer completes <see cref="Completion"/> after the commit.</summary>
internal sealed class WriteOp(WriteKind kind, string key, byte[]? value, long expectedModRevision, long ttlSeconds, Func<Microsoft.Data.Sqlite.SqliteConnection, long>? maintenance = null)
{
    public WriteKind Kind { get; } = kind;

    public string Key { get; } = key;

    public byte[]? Value { get; } = value;

    public long ExpectedModRevision { get; } = expectedModRevision;

    public long TtlSeconds { get; } = ttlSeconds;

    /// <summary>For maintenance work (a compaction batch) run inside the writer's transaction.</summary>
    public Func<Microsoft.Data.Sqlite.SqliteConnection, long>? Maintenance { get; } = maintenance;

    public TaskCompletionSource<WriteResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WriteResult Result { get; set; }

    public WatchEvent? Event { get; set; }
}
