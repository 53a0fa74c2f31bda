using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Selectors;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Http;

/// <summary>
/// Label and field selector matching for one LIST or WATCH (kubernetes' SelectionPredicate).
/// Field selectors may only name the fields the resource supports (plus metadata.name and
/// metadata.namespace); anything else is a 400 "field label not supported".
/// </summary>
public sealed class ObjectMatcher
{
    private readonly LabelSelector? _labels;
    private readonly FieldSelector? _fields;

    public ObjectMatcher(ResourceDefinition resource, string? labelSelector, string? fieldSelector)
    {
        _labels = string.IsNullOrWhiteSpace(labelSelector) ? null : LabelSelector.Parse(labelSelector);
        if (!string.IsNullOrWhiteSpace(fieldSelector))
        {
            _fields = FieldSelector.Parse(fieldSelector);
            foreach (var field in _fields.Fields)
            {
                if (field is not ("metadata.name" or "metadata.namespace") && !resource.SelectableFields.Contains(field))
                {
                    throw StatusException.BadRequest($"field label not supported: {field}");
                }
            }
        }
    }

    public bool MatchesEverything => _labels is null && _fields is null;

    public bool Matches(CachedObject obj)
    {
        if (_labels is not null && !_labels.Matches(Labels(obj.Object)))
        {
            return false;
        }

        return _fields is null || _fields.Matches(field => Field(obj.Object, field));
    }

    private static Dictionary<string, string> Labels(JsonObject obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject map)
        {
            foreach (var (k, v) in map)
            {
                labels[k] = v is JsonValue value && value.TryGetValue<string>(out var s) ? s : v?.ToJsonString() ?? string.Empty;
            }
        }

        return labels;
    }

    /// <summary>The value of a dotted field path as kubernetes renders it for field selectors (bools as "true"/"false", absent as "").</summary>
    public static string? Field(JsonObject obj, string path)
    {
        if (path == "status.podIPs")
        {
            // kubernetes exposes only the first pod IP under this label.
            return obj["status"]?["podIPs"]?[0]?["ip"]?.ToString() ?? string.Empty;
        }

        JsonNode? node = obj;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
            {
                return string.Empty;
            }
        }

        return node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            _ => node.ToJsonString(),
        };
    }

    /// <summary>
    /// A watch event as a client with this selector sees it: an object that starts matching is ADDED,
    /// one that stops matching is DELETED (kubernetes' cacheWatcher does the same).
    /// </summary>
    public CacheEvent? Filter(CacheEvent e, string? keyPrefix)
    {
        if (keyPrefix is not null && !e.Object.Key.StartsWith(keyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        if (MatchesEverything)
        {
            return e;
        }

        var now = e.Type != CacheEventType.Deleted && Matches(e.Object);
        var before = e.Type switch
        {
            CacheEventType.Added => false,
            CacheEventType.Deleted => Matches(e.Previous ?? e.Object),
            _ => e.Previous is not null && Matches(e.Previous),
        };
        return (before, now) switch
        {
            (true, true) => e,
            (false, true) => e with { Type = CacheEventType.Added },
            (true, false) => e with { Type = CacheEventType.Deleted },
            _ => null,
        };
    }
}
