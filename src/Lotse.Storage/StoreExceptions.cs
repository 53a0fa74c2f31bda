namespace Lotse.Storage;

/// <summary>Base of every error a store raises; the message is one line a user can act on.</summary>
public class StoreException : Exception
{
    public StoreException(string message) : base(message) { }

    public StoreException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>
/// The revision asked for (a watch start or a read at a revision) is older than the last compaction.
/// The API server answers 410 Gone ("too old resource version"); the client relists.
/// </summary>
public sealed class CompactedException(long requestedRevision, long compactRevision)
    : StoreException($"required revision {requestedRevision} has been compacted (compacted up to {compactRevision})")
{
    public long RequestedRevision { get; } = requestedRevision;

    public long CompactRevision { get; } = compactRevision;
}

/// <summary>
/// A revision in the future was asked for (etcd's "required revision is a future revision").
/// </summary>
public sealed class FutureRevisionException(long requestedRevision, long currentRevision)
    : StoreException($"required revision {requestedRevision} is a future revision (current {currentRevision})")
{
    public long RequestedRevision { get; } = requestedRevision;

    public long CurrentRevision { get; } = currentRevision;
}

/// <summary>
/// A watch ended before its consumer asked it to. Every event up to <see cref="LastRevision"/> was
/// delivered; resume by watching again after that revision — no event is ever skipped.
/// </summary>
public sealed class WatchEndedException(long lastRevision, string reason, Exception? inner = null)
    : StoreException($"watch ended after revision {lastRevision}: {reason}", inner)
{
    public long LastRevision { get; } = lastRevision;
}

/// <summary>The store cannot be reached or used right now (etcd down, database locked, disk full).</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null)
    : StoreException(message, inner);
