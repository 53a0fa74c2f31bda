using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

public sealed partial class ResourceHandler
{
    /// <summary>How often a watch that allows bookmarks gets one (kubernetes sends them about once a minute).</summary>
    private static readonly TimeSpan BookmarkInterval = TimeSpan.FromSeconds(60);

    /// <summary>
    /// WATCH: a chunked stream of <c>{"type":…,"object":…}</c> lines, served from the watch cache.
    /// resourceVersion unset or "0" starts with a synthetic ADDED per existing object; N resumes after N;
    /// an N older than the cache remembers ends the stream with an ERROR event carrying 410 Expired.
    /// </summary>
    private async Task WatchAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var query = request.Query;
        var format = Format(request, list: false);
        var matcher = new ObjectMatcher(scope.Resource, query["labelSelector"], query["fieldSelector"]);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var timeoutSeconds = IntQuery(request, "timeoutSeconds") ?? (1800 + Random.Shared.Next(1800));
        var rvText = query["resourceVersion"].ToString();
        var from = ObjectStore.ParseResourceVersion(rvText);
        var cache = objects.Caches.Find(scope.Resource.KeyPrefix) ?? throw StatusException.NotFoundPath();
        if (string.IsNullOrEmpty(rvText))
        {
            await objects.Caches.WaitForStoreAsync(ObjectStore.CacheWaitTimeout, ct);
        }
        else if (from > 0 && !await objects.Caches.WaitForRevisionAsync(from, ObjectStore.CacheWaitTimeout, ct))
        {
            throw StatusException.Timeout($"Too large resource version: {from}, current: {objects.Caches.Revision}", retryAfterSeconds: 1);
        }

        var prefix = scope.Resource.NamespacePrefix(scope.Namespace);
        using var watcher = cache.Watch(from, objects.Caches.Revision, e => matcher.Filter(e, prefix));

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = format.Kind == OutputKind.Table ? format.ContentType : "application/json";
        response.Headers.CacheControl = "no-cache, private";
        await response.StartAsync(ct);
        await response.Body.FlushAsync(ct); // headers now, so the client knows the watch is established

        if (watcher is null)
        {
            var gone = StatusException.Gone($"too old resource version: {from} ({cache.OldestResumableRevision})");
            await WriteEventAsync(response, "ERROR", gone.ToJson(), ct);
            return;
        }

        // A stopping server ends its watches like a timeout does, so clients re-watch elsewhere or
        // after the restart, and a graceful stop does not wait for streams that never end.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        var first = true;
        var lastSent = from;
        Task<bool>? pending = null;
        Task? bookmarkDue = null;
        try
        {
            while (true)
            {
                pending ??= watcher.Events.WaitToReadAsync(timeout.Token).AsTask();
                if (bookmarks)
                {
                    bookmarkDue ??= Task.Delay(BookmarkInterval, time, timeout.Token);
                    if (await Task.WhenAny(pending, bookmarkDue) == bookmarkDue)
                    {
                        bookmarkDue = null;
                        await WriteEventAsync(response, "BOOKMARK", Bookmark(scope, objects.Caches.Revision), timeout.Token);
                        continue;
                    }
                }

                var readable = await pending;
                pending = null;
                if (!readable)
                {
                    if (watcher.Gone)
                    {
                        var gone = StatusException.Gone($"too old resource version: {lastSent} ({cache.OldestResumableRevision})");
                        await WriteEventAsync(response, "ERROR", gone.ToJson(), timeout.Token);
                    }

                    return; // closed: the client re-watches from the last resourceVersion it saw
                }

                while (watcher.Events.TryRead(out var e))
                {
                    var obj = scope.Resource.Present(e.Object);
                    var type = e.Type switch
                    {
                        CacheEventType.Added => "ADDED",
                        CacheEventType.Modified => "MODIFIED",
                        _ => "DELETED",
                    };
                    if (format.Kind == OutputKind.Table)
                    {
                        var table = writer.Table(scope.Resource, [obj], format, query["includeObject"], e.Revision, null, null, withColumns: first);
                        first = false;
                        await WriteEventAsync(response, type, table, timeout.Token);
                    }
                    else
                    {
                        WriteRawEvent(response, type, obj.Json);
                    }

                    lastSent = e.Revision;
                }

                await response.BodyWriter.FlushAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds passed or the client went away: end the stream cleanly
        }
    }

    private static JsonObject Bookmark(RequestScope scope, long revision) => new()
    {
        ["kind"] = scope.Resource.Kind,
        ["apiVersion"] = scope.Resource.GroupVersion,
        ["metadata"] = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) },
    };

    private static async Task WriteEventAsync(HttpResponse response, string type, JsonNode obj, CancellationToken ct)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj };
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, JsonDefaults.Options), ct);
        await response.Body.WriteAsync("\n"u8.ToArray(), ct);
        await response.Body.FlushAsync(ct);
    }

    /// <summary>Appends one event line to the response pipe; the caller flushes once per batch of events.</summary>
    private static void WriteRawEvent(HttpResponse response, string type, byte[] json)
    {
        var pipe = response.BodyWriter;
        pipe.Write(System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"object\":"));
        pipe.Write(json);
        pipe.Write("}\n"u8);
    }
}
