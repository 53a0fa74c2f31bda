using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>Node helpers shared by the strategic merge patch: directive values, identities, copying patch values into the object.</summary>
internal static class PatchNodes
{
    public const string PatchDirective = "$patch";

    /// <summary>The value of a <c>$patch</c> directive: replace, delete or merge; anything else is a malformed patch.</summary>
    public static string DirectiveName(JsonNode? value, JsonObject map) =>
        value is JsonValue v && v.TryGetValue<string>(out var name) && name is "replace" or "delete" or "merge"
            ? name
            : throw PatchException.BadRequest($"unknown patch type: {Describe(value)} in map: {Describe(map)}");

    /// <summary>
    /// A patch value as it lands in the object when there is nothing to merge it with (kube's
    /// <c>removeDirectives</c> plus <c>discardNullValuesFromPatch</c>): a map whose <c>$patch</c> is delete
    /// vanishes, list items carrying any <c>$patch</c> are list markers and vanish, null members and every
    /// other <c>$</c>-name are dropped. Unlike kube, a <c>$patch: replace</c> map keeps its content — kube
    /// drops it when the object had no such field, which loses what the client asked for.
    /// </summary>
    public static bool TryMaterialize(JsonNode? value, out JsonNode? result)
    {
        switch (value)
        {
            case JsonObject map when map.TryGetPropertyValue(PatchDirective, out var directive) && DirectiveName(directive, map) == "delete":
                result = null;
                return false;
            case JsonObject map:
                result = MaterializeObject(map);
                return true;
            case JsonArray list:
                result = MaterializeList(list);
                return true;
            default:
                result = value?.DeepClone();
                return true;
        }
    }

    /// <summary>The content of a patch map, its own directives aside.</summary>
    public static JsonObject MaterializeObject(JsonObject map)
    {
        var result = new JsonObject();
        foreach (var (name, value) in map)
        {
            if (name.StartsWith('$') || value is null)
            {
                continue;
            }

            if (TryMaterialize(value, out var child))
            {
                result[name] = child;
            }
        }

        return result;
    }

    public static JsonArray MaterializeList(JsonArray list)
    {
        var result = new JsonArray();
        foreach (var item in list)
        {
            if (item is JsonObject marker && marker.TryGetPropertyValue(PatchDirective, out var directive))
            {
                DirectiveName(directive, marker);
                continue;
            }

            if (TryMaterialize(item, out var value))
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>
    /// The identity kube compares list items by (Go's <c>==</c> on decoded values): strings by text,
    /// numbers by value, booleans, null. Used for merge-key values and for primitive list items.
    /// </summary>
    public static string Identity(JsonNode? value)
    {
        if (value is null)
        {
            return "null";
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.Null:
                return "null";
            case JsonValueKind.String:
                return "s:" + value.GetValue<string>();
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Number:
                // 80, 80.0 and 8e1 are one port number.
                var text = value.ToJsonString();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                {
                    return "n:" + whole.ToString(CultureInfo.InvariantCulture);
                }

                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && real == Math.Floor(real) && Math.Abs(real) < 9e15
                    ? "n:" + ((long)real).ToString(CultureInfo.InvariantCulture)
                    : "n:" + text;
            default:
                return "j:" + value.ToJsonString();
        }
    }

    /// <summary>Items that lack the merge key all share this identity, as nil does in kube's order lookups.</summary>
    public const string MissingKey = "\0missing";

    /// <summary>The identity of a list item: its merge-key value for maps, itself for primitives.</summary>
    public static string ItemIdentity(JsonNode? item, string? mergeKey) =>
        mergeKey is null || item is not JsonObject map ? Identity(item)
        : map.TryGetPropertyValue(mergeKey, out var key) ? Identity(key)
        : MissingKey;

    /// <summary>The element kind kube compares list items by: maps, lists, strings, numbers, booleans, null.</summary>
    public static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() switch
    {
        null => JsonValueKind.Null,
        JsonValueKind.False => JsonValueKind.True,
        var kind => kind.Value,
    };

    public static string Describe(JsonNode? node) => node?.ToJsonString() ?? "null";

    public static PatchException NoMergeKey(JsonNode? item, string mergeKey, PatchErrorKind kind) =>
        new($"map: {Describe(item)} does not contain declared merge key: {mergeKey}", kind);
}
