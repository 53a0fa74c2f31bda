using k8s;

namespace Lotse.Client.Informers;

/// <summary>One page of a list: the items and what to send for the next page (client-go's pager).</summary>
public sealed record ListPage<T>(IList<T> Items, string ResourceVersion, string? Continue);

/// <summary>
/// How an informer lists and watches one kind: a paged list (limit/continue), and a watch from a
/// resourceVersion with bookmarks. Built from the typed operations of the official client
/// (<see cref="ListWatches"/>); a test can hand in its own. The official client does not yield a
/// watch's ERROR events (a Status, such as 410 Expired): it hands them to <c>onError</c>, which is
/// how the informer learns that it must list again.
/// </summary>
public sealed record ListWatch<T>(
    string Kind,
    Func<string? /* continue */, CancellationToken, Task<ListPage<T>>> ListPage,
    Func<string /* resourceVersion */, Action<Exception> /* onError */, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> Watch)
    where T : class;
