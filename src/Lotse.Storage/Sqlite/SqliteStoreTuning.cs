namespace Lotse.Storage.Sqlite;

/// <summary>Knobs tests and benchmarks turn; the defaults are what <c>lotse server</c> runs with.</summary>
internal sealed record SqliteStoreTuning
{
    public TimeProvider? Time { get; init; }

    /// <summary>At most this many writes share one transaction (one fsync).</summary>
    public int MaxBatch { get; init; } = 512;

    /// <summary>How many revisions one compaction transaction covers (keeps each under a few ms).</summary>
    public int CompactionBatchRevisions { get; init; } = 500;

    /// <summary>How many recent events watchers are served from memory.</summary>
    public int RingCapacity { get; init; } = 16_384;

    /// <summary>How often expired keys are swept and the WAL is checkpointed.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromSeconds(1);
}
