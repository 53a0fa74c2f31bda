using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.Storage;

namespace Lotse.ApiServer.WatchCache;

/// <summary>
/// One object as the server holds it: its JSON with <c>metadata.resourceVersion</c> set (lists and
/// watches write these bytes as they are) and, parsed only when something needs to look inside
/// (selectors, tables, updates), the object itself. Immutable: <see cref="Object"/> is shared by
/// every reader and must be deep-cloned before any change.
/// </summary>
public sealed class CachedObject
{
    private JsonObject? _object;

    private CachedObject(string key, byte[] json, long revision, long createRevision, JsonObject? obj)
    {
        Key = key;
        Json = json;
        Revision = revision;
        CreateRevision = createRevision;
        _object = obj is null ? null : Materialize(obj);

        // Keys are /registry/{resource}/{namespace}/{name} or /registry/{resource}/{name}.
        var rest = key.Split('/', 4) is [_, _, _, var tail] ? tail : key;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        Namespace = slash < 0 ? string.Empty : rest[..slash];
        Name = slash < 0 ? rest : rest[(slash + 1)..];
    }

    public string Key { get; }

    public string Name { get; }

    public string Namespace { get; }

    /// <summary>UTF-8 JSON of the object, with <c>metadata.resourceVersion</c> set.</summary>
    public byte[] Json { get; }

    public long Revision { get; }

    public long CreateRevision { get; }

    /// <summary>The parsed object, fully materialized (safe for concurrent readers); parsed on first use.</summary>
    public JsonObject Object => LazyInitializer.EnsureInitialized(ref _object, () =>
        Materialize(JsonNode.Parse(Json) as JsonObject ?? throw new InvalidDataException($"stored value of {Key} is not a JSON object")));

    public static CachedObject FromStore(KeyValue kv) => FromStored(kv.Key, kv.Value, kv.ModRevision, kv.CreateRevision);

    /// <summary>
    /// A stored value (JSON without resourceVersion) stamped with a revision: the resourceVersion is
    /// spliced into the bytes, so nothing is parsed or serialized here.
    /// </summary>
    public static CachedObject FromStored(string key, byte[] value, long revision, long createRevision) =>
        Splice(value, revision) is { } json
            ? new CachedObject(key, json, revision, createRevision, null)
            : FromObject(key, JsonNode.Parse(value) as JsonObject ?? throw new InvalidDataException($"stored value of {key} is not a JSON object"), revision, createRevision);

    /// <summary>Takes ownership of <paramref name="obj"/>: sets its resourceVersion and serializes it.</summary>
    public static CachedObject FromObject(string key, JsonObject obj, long revision, long createRevision)
    {
        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        metadata["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
        var json = JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options);
        return new CachedObject(key, json, revision, createRevision, obj);
    }

    /// <summary>The object as read through another version of its kind: the same, with this apiVersion (itself when it already has it).</summary>
    public CachedObject WithApiVersion(string apiVersion)
    {
        if (Object["apiVersion"]?.GetValue<string>() == apiVersion)
        {
            return this;
        }

        var copy = CloneObject();
        copy["apiVersion"] = apiVersion;
        return FromObject(Key, copy, Revision, CreateRevision);
    }

    /// <summary>A deep copy the caller may change.</summary>
    public JsonObject CloneObject() => (JsonObject)Object.DeepClone();

    /// <summary>
    /// Inserts <c>"resourceVersion":"N"</c> at the start of the top-level <c>metadata</c> object, or
    /// returns null when the value has no metadata object or already carries a resourceVersion.
    /// </summary>
    internal static byte[]? Splice(byte[] stored, long revision)
    {
        var reader = new Utf8JsonReader(stored);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isMetadata = reader.ValueTextEquals("metadata"u8);
                reader.Read();
                if (!isMetadata)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                var open = (int)reader.TokenStartIndex;
                var empty = true;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 1))
                {
                    empty = false;
                    if (reader.ValueTextEquals("resourceVersion"u8))
                    {
                        return null;
                    }

                    reader.Read(); // the property's value
                    reader.Skip();
                }

                var insert = Encoding.UTF8.GetBytes($"\"resourceVersion\":\"{revision.ToString(CultureInfo.InvariantCulture)}\"{(empty ? string.Empty : ",")}");
                var result = new byte[stored.Length + insert.Length];
                stored.AsSpan(0, open + 1).CopyTo(result);
                insert.CopyTo(result.AsSpan(open + 1));
                stored.AsSpan(open + 1).CopyTo(result.AsSpan(open + 1 + insert.Length));
                return result;
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Walks the whole tree once so every node is built: nodes parsed from JSON build their children
    /// lazily, which is not safe when several requests read the same cached object at once.
    /// </summary>
    private static JsonObject Materialize(JsonObject obj)
    {
        static void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o)
                    {
                        Walk(child);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Walk(child);
                    }

                    break;
                case JsonValue v:
                    _ = v.GetValueKind();
                    break;
            }
        }

        Walk(obj);
        return obj;
    }
}
