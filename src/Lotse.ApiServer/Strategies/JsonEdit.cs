using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Strategies;

/// <summary>Helpers for defaulting JSON objects in place.</summary>
internal static class JsonEdit
{
    public static JsonObject Obj(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject o)
        {
            return o;
        }

        o = [];
        parent[name] = o;
        return o;
    }

    public static void Default(JsonObject obj, string name, JsonNode value)
    {
        if (obj[name] is null)
        {
            obj[name] = value;
        }
    }

    public static string? Str(JsonObject? obj, string name) => obj?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static IEnumerable<JsonObject> Items(JsonObject? obj, string name) => (obj?[name] as JsonArray)?.OfType<JsonObject>() ?? [];
}
