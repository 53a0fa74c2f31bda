using System.Globalization;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tables;

/// <summary>Small readers over JSON objects that never throw on missing or mistyped fields.</summary>
internal static class J
{
    public static JsonNode? At(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    public static string? Str(JsonNode? node, string path) =>
        At(node, path) is JsonValue v && v.TryGetValue<string>(out var s) ? s : At(node, path) is JsonValue n ? n.ToJsonString() : null;

    public static long Int(JsonNode? node, string path) =>
        At(node, path).AsInt64() ?? (At(node, path) is JsonValue v && v.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : 0);

    public static bool Bool(JsonNode? node, string path) => At(node, path).AsBoolean() is { } b && b;

    public static IEnumerable<JsonObject> Objects(JsonNode? node, string path) => (At(node, path) as JsonArray)?.OfType<JsonObject>() ?? [];

    public static IEnumerable<string> Strings(JsonNode? node, string path) =>
        (At(node, path) as JsonArray)?.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>() ?? [];

    public static string OrNone(string? value) => string.IsNullOrEmpty(value) ? "<none>" : value;

    public static string Age(JsonObject obj, DateTimeOffset now) => HumanDuration.Since(Str(obj, "metadata.creationTimestamp"), now);

    /// <summary>A label selector object (matchLabels/matchExpressions) or a plain map, as kubectl prints it.</summary>
    public static string Selector(JsonNode? selector)
    {
        if (selector is not JsonObject s || s.Count == 0)
        {
            return "<none>";
        }

        if (!s.ContainsKey("matchLabels") && !s.ContainsKey("matchExpressions"))
        {
            return string.Join(",", s.Select(kv => $"{kv.Key}={kv.Value}"));
        }

        var parts = new List<string>();
        if (s["matchLabels"] is JsonObject labels)
        {
            parts.AddRange(labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        }

        foreach (var e in Objects(s, "matchExpressions"))
        {
            var key = Str(e, "key");
            var values = string.Join(",", Strings(e, "values"));
            parts.Add(Str(e, "operator") switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => key!,
                _ => $"!{key}",
            });
        }

        return parts.Count == 0 ? "<none>" : string.Join(",", parts);
    }

    public static string Containers(JsonNode? podSpec) => string.Join(",", Objects(podSpec, "containers").Select(c => Str(c, "name")));

    public static string Images(JsonNode? podSpec) => string.Join(",", Objects(podSpec, "containers").Select(c => Str(c, "image")));
}
