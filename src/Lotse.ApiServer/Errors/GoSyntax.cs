using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Errors;

/// <summary>
/// Values as Go's <c>%#v</c> prints them, for the messages where kube-apiserver shows a Go value
/// (a duplicate list item, a CRD's validation rule): strings Go-quoted, objects as
/// <c>map[string]interface {}{…}</c> with sorted keys, arrays as <c>[]interface {}{…}</c>.
/// </summary>
public static class GoSyntax
{
    public static string Of(JsonNode? value) => value switch
    {
        null => "interface {}(nil)",
        JsonObject obj => "map[string]interface {}{" + string.Join(", ", obj.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Quote(kv.Key) + ":" + Of(kv.Value))) + "}",
        JsonArray array => "[]interface {}{" + string.Join(", ", array.Select(Of)) + "}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Quote(v.GetValue<string>()),
        _ => value.ToJsonString(),
    };

    /// <summary>A Go string literal (<c>strconv.Quote</c> for the characters that occur in practice).</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }
}
