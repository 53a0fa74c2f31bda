namespace Lotse.Storage;

/// <summary>
/// A read of every live key that starts with <see cref="Prefix"/>, in key order (bytewise, as etcd).
/// </summary>
/// <param name="Prefix">The key prefix; an exact key works too (it is its own prefix).</param>
/// <param name="Limit">At most this many keys; 0 = no limit.</param>
/// <param name="ContinueAfterKey">Start strictly after this key (the last key of the previous page), or null.</param>
/// <param name="AtRevision">Read the keys as they were at this revision; 0 = the current revision.</param>
/// <param name="CountOnly">Return only <see cref="RangeResult.Count"/>, no keys.</param>
public readonly record struct RangeRequest(
    string Prefix,
    int Limit = 0,
    string? ContinueAfterKey = null,
    long AtRevision = 0,
    bool CountOnly = false);

/// <param name="Items">The keys of this page, in key order.</param>
/// <param name="Revision">The revision the read was served at (pass it as AtRevision for the next page).</param>
/// <param name="More">True when keys beyond this page exist.</param>
/// <param name="Count">How many keys the range held from its start (after ContinueAfterKey), ignoring Limit, as etcd counts.</param>
public sealed record RangeResult(IReadOnlyList<KeyValue> Items, long Revision, bool More, long Count);
