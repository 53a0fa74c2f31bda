using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;

namespace Lotse.ApiServer.Storage;

/// <summary>
/// The generic registry store (kubernetes' genericregistry.Store): every verb of every stored
/// resource, over the revisioned store for writes and the watch cache for reads. Per-kind rules come
/// from the resource's <see cref="ResourceStrategy"/>; everything shared lives here.
/// </summary>
public sealed partial class ObjectStore(IStore store, CacheSet caches, TimeProvider time)
{
    /// <summary>How long a consistent read waits for the cache to catch up before answering 504.</summary>
    public static readonly TimeSpan CacheWaitTimeout = TimeSpan.FromSeconds(3);

    public IStore Store => store;

    public CacheSet Caches => caches;

    private ResourceCache Cache(ResourceDefinition resource) =>
        caches.Find(resource.KeyPrefix) ?? throw StatusException.NotFoundPath();

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Serialize(JsonObject obj) => JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options);

    /// <summary>The object as stored: without resourceVersion (the store's revision is the version).</summary>
    private static byte[] ToStored(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata)
        {
            metadata.Remove("resourceVersion");
            metadata.Remove("selfLink");
        }

        return Serialize(obj);
    }

    private async Task<CachedObject?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var kv = await Guard(() => store.GetAsync(key, cancellationToken));
        return kv is null ? null : CachedObject.FromStore(kv);
    }

    /// <summary>Turns store failures into the Status errors clients expect.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (CompactedException ex)
        {
            throw StatusException.Gone($"too old resource version: {ex.RequestedRevision} ({ex.CompactRevision})");
        }
        catch (FutureRevisionException ex)
        {
            throw StatusException.Timeout($"Too large resource version: {ex.RequestedRevision}, current: {ex.CurrentRevision}");
        }
        catch (StoreException ex)
        {
            throw StatusException.ServiceUnavailable($"the datastore is unavailable: {ex.Message}");
        }
    }

    internal static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata)
        {
            return metadata;
        }

        metadata = [];
        obj["metadata"] = metadata;
        return metadata;
    }

    internal static string? GetString(JsonObject? obj, string name) =>
        obj?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static long ParseResourceVersion(string? value, string parameter = "resourceVersion")
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
        {
            return revision;
        }

        throw StatusException.BadRequest($"invalid {parameter} \"{value}\": must be a non-negative integer");
    }
}
