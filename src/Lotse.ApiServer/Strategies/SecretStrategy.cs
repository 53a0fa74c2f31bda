using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Strategies;

/// <summary>
/// Secrets: type defaults to Opaque and may not change; data values are base64. <c>stringData</c>
/// is write-only, as in Kubernetes: its entries are encoded into <c>data</c> (overriding keys of the
/// same name) and it is never stored.
/// </summary>
internal sealed class SecretStrategy : ResourceStrategy
{
    public override void ApplyDefaults(JsonObject obj)
    {
        Default(obj, "type", "Opaque");
        if (obj["stringData"] is JsonObject strings)
        {
            var data = obj["data"] as JsonObject ?? [];
            foreach (var (key, value) in strings)
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var text))
                {
                    data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));
                }
            }

            obj["data"] = data;
        }

        obj.Remove("stringData");
    }

    public override void Validate(JsonObject obj, List<FieldError> errors)
    {
        if (obj["data"] is JsonObject data)
        {
            foreach (var (key, value) in data)
            {
                if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || !IsBase64(text))
                {
                    errors.Add(FieldError.Invalid(FieldPath.Root("data").Key(key), "<secret contents redacted>", "must be base64-encoded"));
                }
            }
        }
    }

    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(obj, errors);
        if (Str(obj, "type") != Str(old, "type"))
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("type"), Str(obj, "type") ?? string.Empty, "field is immutable"));
        }
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(text, buffer, out _);
    }
}
