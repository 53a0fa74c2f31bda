using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.Storage;

namespace Lotse.ApiServer.WatchCache;

/// <summary>
/// One object as the cache holds it: parsed (for selectors and tables) and serialized with its
/// resourceVersion (so lists write bytes without re-serializing). Immutable by convention: the
/// <see cref="Object"/> is shared by every reader and must be deep-cloned before any change.
/// </summary>
public sealed class CachedObject
{
    private CachedObject(string key, JsonObject obj, byte[] json, long revision, long createRevision)
    {
        Key = key;
        Object = obj;
        Json = json;
        Revision = revision;
        CreateRevision = createRevision;
        var metadata = obj["metadata"] as JsonObject;
        Name = metadata?["name"]?.GetValue<string>() ?? string.Empty;
        Namespace = metadata?["namespace"]?.GetValue<string>() ?? string.Empty;
    }

    public string Key { get; }

    public string Name { get; }

    public string Namespace { get; }

    public JsonObject Object { get; }

    /// <summary>UTF-8 JSON of <see cref="Object"/>, with <c>metadata.resourceVersion</c> set.</summary>
    public byte[] Json { get; }

    public long Revision { get; }

    public long CreateRevision { get; }

    /// <summary>Parses a stored value and stamps <c>metadata.resourceVersion</c> with its mod revision.</summary>
    public static CachedObject FromStore(KeyValue kv) => FromStored(kv.Key, kv.Value, kv.ModRevision, kv.CreateRevision);

    public static CachedObject FromStored(string key, byte[] value, long revision, long createRevision)
    {
        var obj = JsonNode.Parse(value) as JsonObject ?? throw new InvalidDataException($"stored value of {key} is not a JSON object");
        return FromObject(key, obj, revision, createRevision);
    }

    /// <summary>Takes ownership of <paramref name="obj"/>: sets its resourceVersion and serializes it.</summary>
    public static CachedObject FromObject(string key, JsonObject obj, long revision, long createRevision)
    {
        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        metadata["resourceVersion"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var json = JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options);
        return new CachedObject(key, obj, json, revision, createRevision);
    }

    /// <summary>A deep copy the caller may change.</summary>
    public JsonObject CloneObject() => (JsonObject)Object.DeepClone();
}
