using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;

namespace Lotse.ApiServer.Storage;

/// <summary>One page of a LIST: the objects, the revision it reflects, and the continue token.</summary>
public sealed record ListResult(IReadOnlyList<CachedObject> Items, long Revision, string? Continue, long? RemainingItemCount);

public sealed partial class ObjectStore
{
    /// <summary>GET of one object. resourceVersion "0" may be served from the cache; otherwise the read is consistent.</summary>
    public async Task<CachedObject> GetAsync(RequestScope scope, string? resourceVersion, CancellationToken cancellationToken)
    {
        var resource = scope.Resource;
        CachedObject? found;
        if (resourceVersion == "0")
        {
            found = Cache(resource).Objects.GetValueOrDefault(scope.Key);
        }
        else if (string.IsNullOrEmpty(resourceVersion))
        {
            found = await ReadAsync(scope.Key, cancellationToken);
        }
        else
        {
            var revision = ParseResourceVersion(resourceVersion);
            await WaitForCacheAsync(revision, cancellationToken);
            found = Cache(resource).Objects.GetValueOrDefault(scope.Key);
        }

        return found ?? throw StatusException.NotFound(resource.GroupResource, scope.Name!);
    }

    private async Task WaitForCacheAsync(long revision, CancellationToken cancellationToken)
    {
        if (!await caches.WaitForRevisionAsync(revision, CacheWaitTimeout, cancellationToken))
        {
            throw StatusException.Timeout($"Too large resource version: {revision}, current: {caches.Revision}", retryAfterSeconds: 1);
        }
    }

    /// <summary>
    /// LIST, kubernetes' semantics: without resourceVersion the result is consistent (the cache waits
    /// until it has caught up with the store); "0" takes the cache as it is; paging walks the keys in
    /// order at one revision, with a continue token that pins it.
    /// </summary>
    public async Task<ListResult> ListAsync(RequestScope scope, ListOptions options, Func<CachedObject, bool> matches, CancellationToken cancellationToken)
    {
        var resource = scope.Resource;
        var prefix = resource.NamespacePrefix(scope.Namespace);
        if (!string.IsNullOrEmpty(options.Continue))
        {
            var (revision, startAfter) = DecodeContinue(options.Continue, prefix);
            return await ListFromStoreAsync(prefix, revision, startAfter, options.Limit, matches, cancellationToken);
        }

        if (options.ResourceVersionMatch == "Exact")
        {
            var exact = ParseResourceVersion(options.ResourceVersion);
            return await ListFromStoreAsync(prefix, exact, null, options.Limit, matches, cancellationToken);
        }

        if (options.ResourceVersion != "0")
        {
            if (string.IsNullOrEmpty(options.ResourceVersion))
            {
                if (!await caches.WaitForStoreAsync(CacheWaitTimeout, cancellationToken))
                {
                    throw StatusException.Timeout("Too large resource version: the watch cache did not catch up with the datastore", retryAfterSeconds: 1);
                }
            }
            else
            {
                await WaitForCacheAsync(ParseResourceVersion(options.ResourceVersion), cancellationToken);
            }
        }

        // Snapshot first, revision second: the snapshot is at least as new as the revision reported.
        var revisionBefore = caches.Revision;
        var objects = Cache(resource).Objects;
        var revisionAt = Math.Max(revisionBefore, 1);
        var items = new List<CachedObject>();
        var limit = options.Limit > 0 && options.ResourceVersion != "0" ? options.Limit : int.MaxValue;
        string? lastKey = null;
        var more = false;
        var remaining = 0L;
        foreach (var (key, obj) in string.IsNullOrEmpty(scope.Namespace) ? objects : objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (!matches(obj))
            {
                continue;
            }

            if (items.Count < limit)
            {
                items.Add(obj);
                lastKey = key;
            }
            else
            {
                more = true;
                remaining++;
            }
        }

        return new ListResult(items, revisionAt, more ? EncodeContinue(revisionAt, lastKey!, prefix) : null, more ? remaining : null);
    }

    /// <summary>A page read from the store at a fixed revision (continuations and Exact reads).</summary>
    private async Task<ListResult> ListFromStoreAsync(string prefix, long revision, string? startAfter, int limit, Func<CachedObject, bool> matches, CancellationToken cancellationToken)
    {
        var items = new List<CachedObject>();
        var want = limit > 0 ? limit : int.MaxValue;
        var after = startAfter;
        while (true)
        {
            var batch = limit > 0 ? Math.Max(limit, 100) : 1000;
            RangeResult page;
            try
            {
                page = await Guard(() => store.RangeAsync(new RangeRequest(prefix, batch, after, revision), cancellationToken));
            }
            catch (StatusException ex) when (ex.Code == 410)
            {
                throw StatusException.ResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
            }

            revision = page.Revision;
            foreach (var kv in page.Items)
            {
                after = kv.Key;
                var obj = CachedObject.FromStore(kv);
                if (!matches(obj))
                {
                    continue;
                }

                items.Add(obj);
                if (items.Count == want)
                {
                    var more = page.More || kv != page.Items[^1];
                    return new ListResult(items, revision, more ? EncodeContinue(revision, kv.Key, prefix) : null, null);
                }
            }

            if (!page.More || page.Items.Count == 0)
            {
                return new ListResult(items, revision, null, null);
            }
        }
    }

    /// <summary>Kubernetes' continue token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"key-after-prefix\u0000"}.</summary>
    internal static string EncodeContinue(long revision, string lastKey, string prefix)
    {
        var json = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["start"] = lastKey[prefix.Length..] + "\u0000" };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    internal static (long Revision, string StartAfter) DecodeContinue(string token, string prefix)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var json = JsonNode.Parse(Convert.FromBase64String(base64)) as JsonObject;
            var revision = json?["rv"].AsInt64() ?? 0;
            var start = json?["start"]?.GetValue<string>();
            if (json?["v"]?.GetValue<string>() != "meta.k8s.io/v1" || revision <= 0 || string.IsNullOrEmpty(start) || start.Contains("..", StringComparison.Ordinal))
            {
                throw new FormatException();
            }

            return (revision, prefix + start.TrimEnd('\u0000'));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            throw StatusException.BadRequest($"continue key is not valid: {ex.Message}");
        }
    }
}
