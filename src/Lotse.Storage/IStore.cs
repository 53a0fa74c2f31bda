namespace Lotse.Storage;

/// <summary>
/// A revisioned key/value store with the subset of etcd v3 semantics the API server needs
/// (the contract of kubernetes' <c>storage.Interface</c> sits on top of this one).
///
/// <para>One global revision counts every successful write, starting at 1 for the first write
/// of an empty store. Reads and watches are consistent with it: a write acknowledged at
/// revision R is visible to every read that starts after the acknowledgement, and every watch
/// covering its key delivers it in revision order, exactly once.</para>
///
/// <para>Durability: a write whose task completed successfully survives a crash of the
/// process (SQLite: WAL with synchronous=FULL; etcd: raft quorum + fsync).</para>
///
/// <para>Thread-safety: every member may be called concurrently.</para>
/// </summary>
public interface IStore : IAsyncDisposable
{
    /// <summary>The revision of the last acknowledged write (0 for an empty store).</summary>
    ValueTask<long> GetCurrentRevisionAsync(CancellationToken cancellationToken = default);

    /// <summary>The revision of the last compaction (0 if never compacted).</summary>
    ValueTask<long> GetCompactRevisionAsync(CancellationToken cancellationToken = default);

    /// <summary>The live value of one key, or null.</summary>
    Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Keys by prefix, paged, optionally at a past revision.</summary>
    /// <exception cref="CompactedException">AtRevision is older than the last compaction.</exception>
    /// <exception cref="FutureRevisionException">AtRevision is newer than the current revision.</exception>
    Task<RangeResult> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default);

    /// <summary>Writes the key if it does not exist (a deleted key may be created again).</summary>
    /// <param name="ttlSeconds">When above 0 the key is deleted by the store after about this many seconds (an etcd lease).</param>
    Task<WriteResult> CreateAsync(string key, byte[] value, long ttlSeconds = 0, CancellationToken cancellationToken = default);

    /// <summary>Replaces the key's value if its mod revision equals <paramref name="expectedModRevision"/>.</summary>
    /// <param name="expectedModRevision">The mod revision the caller read; 0 means any (unconditional).</param>
    /// <param name="ttlSeconds">When above 0 the key is deleted by the store after about this many seconds.</param>
    Task<WriteResult> UpdateAsync(string key, byte[] value, long expectedModRevision, long ttlSeconds = 0, CancellationToken cancellationToken = default);

    /// <summary>Deletes the key if its mod revision equals <paramref name="expectedModRevision"/> (0 means any).</summary>
    Task<WriteResult> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every change to keys under <paramref name="prefix"/> with a revision above
    /// <paramref name="afterRevision"/>, in revision order, with previous values, then new ones as
    /// they happen, until cancelled. Progress events may be interleaved (see <see cref="WatchEventType.Progress"/>).
    /// A watch that cannot go on ends with <see cref="WatchEndedException"/> (resume after its
    /// LastRevision) or <see cref="CompactedException"/> (the start is gone; relist) — never with a gap.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets history up to <paramref name="revision"/>: reads and watches at older revisions then
    /// fail with <see cref="CompactedException"/>. Live keys are never removed. Compacting at or
    /// below the last compaction is a no-op.
    /// </summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken = default);
}
