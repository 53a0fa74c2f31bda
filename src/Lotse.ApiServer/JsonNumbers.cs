using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer;

/// <summary>
/// Reads numbers and booleans from JSON nodes whatever made them: parsed from a request (backed by a
/// JsonElement) or set by server code (backed by a CLR int or long) — GetValue&lt;long&gt; only works for some.
/// </summary>
public static class JsonNumbers
{
    public static long? AsInt64(this JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static bool? AsBoolean(this JsonNode? node) => node is JsonValue v ? v.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    } : null;
}
