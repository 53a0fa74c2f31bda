namespace Lotse.Storage;

public enum WatchEventType
{
    /// <summary>A create or an update. A create has <c>Kv.CreateRevision == Kv.ModRevision</c>.</summary>
    Put,

    /// <summary>A delete. <see cref="WatchEvent.Kv"/> has the key, an empty value and the delete's revision.</summary>
    Delete,

    /// <summary>
    /// No change: every event for this watch's prefix up to <see cref="WatchEvent.Revision"/> has been
    /// delivered (etcd's progress notification). The watch cache uses it to know it is up to date.
    /// </summary>
    Progress,
}

/// <param name="Type">Put, delete or progress.</param>
/// <param name="Kv">The key after the event; for progress a placeholder with an empty key.</param>
/// <param name="PrevKv">The key before the event, when there was one.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Kv, KeyValue? PrevKv)
{
    public long Revision => Kv.ModRevision;

    public bool IsCreate => Type == WatchEventType.Put && Kv.CreateRevision == Kv.ModRevision;

    public static WatchEvent ProgressAt(long revision) =>
        new(WatchEventType.Progress, new KeyValue(string.Empty, [], 0, revision), null);
}
