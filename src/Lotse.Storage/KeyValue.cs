namespace Lotse.Storage;

/// <summary>
/// One key at one revision, as etcd's <c>mvccpb.KeyValue</c>: <see cref="CreateRevision"/> is the
/// revision that created the key (it changes when a key is deleted and created again),
/// <see cref="ModRevision"/> the revision of the last write. The API server shows
/// <see cref="ModRevision"/> to clients as <c>metadata.resourceVersion</c>.
/// </summary>
/// <remarks>The value bytes are owned by the store's caller once returned; stores never mutate them.</remarks>
public sealed record KeyValue(string Key, byte[] Value, long CreateRevision, long ModRevision, long Lease = 0);
