namespace Lotse.ApiServer.WatchCache;

public enum CacheEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>
/// One change as the cache saw it. For deletes <see cref="Object"/> is the last state of the object
/// (kubernetes sends the deleted object, stamped with the delete's revision).
/// </summary>
public sealed record CacheEvent(CacheEventType Type, CachedObject Object, CachedObject? Previous, long Revision);
