using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// A custom resource's OpenAPI v3 schema at work (kube's apiextensions structural schemas):
/// defaulting from <c>default</c>, pruning of fields the schema does not know (unless
/// <c>x-kubernetes-preserve-unknown-fields</c>), and validation — types (with
/// <c>x-kubernetes-int-or-string</c>), required, enum, numeric bounds, string length and pattern,
/// item counts — with go-openapi's wording. Also the structural rules a CRD's schema must meet.
/// </summary>
public static class StructuralSchema
{
    private static readonly string[] RootFields = ["apiVersion", "kind", "metadata"];

    private static string? Str(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static JsonObject? Properties(JsonObject schema) => schema["properties"] as JsonObject;

    /// <summary>Fills missing fields that have a <c>default</c>, depth first.</summary>
    public static void ApplyDefaults(JsonObject schema, JsonNode? value)
    {
        switch (value)
        {
            case JsonObject obj:
                if (Properties(schema) is { } properties)
                {
                    foreach (var (name, node) in properties)
                    {
                        if (node is not JsonObject property)
                        {
                            continue;
                        }

                        if (!obj.ContainsKey(name) && property["default"] is { } fallback)
                        {
                            obj[name] = fallback.DeepClone();
                        }

                        ApplyDefaults(property, obj[name]);
                    }
                }
                else if (schema["additionalProperties"] is JsonObject additional)
                {
                    foreach (var (_, item) in obj)
                    {
                        ApplyDefaults(additional, item);
                    }
                }

                break;
            case JsonArray array when schema["items"] is JsonObject items:
                foreach (var item in array)
                {
                    ApplyDefaults(items, item);
                }

                break;
        }
    }

    /// <summary>Removes fields the schema does not specify; returns their paths (for warnings and strict validation).</summary>
    public static List<string> Prune(JsonObject schema, JsonObject root)
    {
        var pruned = new List<string>();
        PruneObject(schema, root, string.Empty, pruned, isRoot: true);
        return pruned;
    }

    private static void PruneNode(JsonObject schema, JsonNode? value, string path, List<string> pruned)
    {
        switch (value)
        {
            case JsonObject obj:
                PruneObject(schema, obj, path, pruned, isRoot: false);
                break;
            case JsonArray array when schema["items"] is JsonObject items:
                for (var i = 0; i < array.Count; i++)
                {
                    PruneNode(items, array[i], $"{path}[{i}]", pruned);
                }

                break;
        }
    }

    private static void PruneObject(JsonObject schema, JsonObject obj, string path, List<string> pruned, bool isRoot)
    {
        var properties = Properties(schema);
        var additional = schema["additionalProperties"];
        var preserve = Flag(schema, "x-kubernetes-preserve-unknown-fields");
        foreach (var name in obj.Select(kv => kv.Key).ToList())
        {
            var child = path.Length == 0 ? name : $"{path}.{name}";
            if (isRoot && RootFields.Contains(name))
            {
                continue;
            }

            if (properties?[name] is JsonObject property)
            {
                PruneNode(property, obj[name], child, pruned);
            }
            else if (additional is JsonObject additionalSchema)
            {
                PruneNode(additionalSchema, obj[name], child, pruned);
            }
            else if (!preserve && !(additional is JsonValue allowed && allowed.TryGetValue<bool>(out var any) && any))
            {
                obj.Remove(name);
                pruned.Add(child);
            }
        }
    }

    /// <summary>Checks <paramref name="value"/> against the schema, adding kube-worded errors under <paramref name="path"/>.</summary>
    public static void Validate(JsonObject schema, JsonNode? value, FieldPath path, List<FieldError> errors)
    {
        var type = Str(schema, "type");
        if (value is null)
        {
            if (!Flag(schema, "nullable") && type is not null)
            {
                errors.Add(FieldError.Invalid(path, "null", $"{path} in body must be of type {type}: \"null\""));
            }

            return;
        }

        var actual = TypeOf(value);
        if (Flag(schema, "x-kubernetes-int-or-string"))
        {
            if (actual is not ("integer" or "string"))
            {
                errors.Add(FieldError.Invalid(path, actual, $"{path} in body must be of type integer,string: \"{actual}\""));
                return;
            }
        }
        else if (type is not null && actual != type && !(type == "number" && actual == "integer"))
        {
            errors.Add(FieldError.Invalid(path, actual, $"{path} in body must be of type {type}: \"{actual}\""));
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            errors.Add(FieldError.NotSupported(path, Render(value), allowed.Select(a => Render(a))));
        }

        switch (value)
        {
            case JsonObject obj:
                ValidateObject(schema, obj, path, errors);
                break;
            case JsonArray array:
                ValidateArray(schema, array, path, errors);
                break;
            case JsonValue scalar when actual is "integer" or "number":
                ValidateNumber(schema, Number(scalar)!.Value, value, path, errors);
                break;
            case JsonValue scalar when actual == "string":
                ValidateString(schema, scalar.GetValue<string>(), path, errors);
                break;
        }
    }

    private static void ValidateObject(JsonObject schema, JsonObject obj, FieldPath path, List<FieldError> errors)
    {
        foreach (var name in (schema["required"] as JsonArray ?? []).Select(r => r?.GetValue<string>()).OfType<string>())
        {
            if (!obj.ContainsKey(name))
            {
                errors.Add(FieldError.Required(path.Child(name)));
            }
        }

        var properties = Properties(schema);
        foreach (var (name, item) in obj)
        {
            if (path.ToString().Length == 0 && RootFields.Contains(name))
            {
                continue;
            }

            if (properties?[name] is JsonObject property)
            {
                Validate(property, item, path.Child(name), errors);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                Validate(additional, item, path.Key(name), errors);
            }
        }

        if (Count(schema["maxProperties"]) is { } most && obj.Count > most)
        {
            errors.Add(FieldError.Invalid(path, obj.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at most {most} properties"));
        }
    }

    private static void ValidateArray(JsonObject schema, JsonArray array, FieldPath path, List<FieldError> errors)
    {
        if (Count(schema["maxItems"]) is { } most && array.Count > most)
        {
            errors.Add(FieldError.Invalid(path, array.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at most {most} items"));
        }

        if (Count(schema["minItems"]) is { } least && array.Count < least)
        {
            errors.Add(FieldError.Invalid(path, array.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at least {least} items"));
        }

        if (schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Validate(items, array[i], path.Index(i), errors);
            }
        }
    }

    private static void ValidateNumber(JsonObject schema, double number, JsonNode value, FieldPath path, List<FieldError> errors)
    {
        if (Number(schema["maximum"]) is { } maximum && (Flag(schema, "exclusiveMaximum") ? number >= maximum : number > maximum))
        {
            errors.Add(FieldError.Invalid(path, value, $"{path} in body should be less than {(Flag(schema, "exclusiveMaximum") ? string.Empty : "or equal to ")}{Render(schema["maximum"])}"));
        }

        if (Number(schema["minimum"]) is { } minimum && (Flag(schema, "exclusiveMinimum") ? number <= minimum : number < minimum))
        {
            errors.Add(FieldError.Invalid(path, value, $"{path} in body should be greater than {(Flag(schema, "exclusiveMinimum") ? string.Empty : "or equal to ")}{Render(schema["minimum"])}"));
        }
    }

    private static void ValidateString(JsonObject schema, string text, FieldPath path, List<FieldError> errors)
    {
        if (Count(schema["maxLength"]) is { } most && text.Length > most)
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should be at most {most} chars long"));
        }

        if (Count(schema["minLength"]) is { } least && text.Length < least)
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should be at least {least} chars long"));
        }

        if (Str(schema, "pattern") is { } pattern && !Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100)))
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should match '{pattern}'"));
        }
    }

    private static string TypeOf(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => Number(value) is { } d && Math.Abs(d % 1) < double.Epsilon && d is > -9e15 and < 9e15 ? "integer" : "number",
        _ => "null",
    };

    /// <summary>A JSON number as a double, whatever it was made from (parsed text, or a long or int set in code).</summary>
    private static double? Number(JsonNode? node) => node is not JsonValue v ? null
        : v.TryGetValue<double>(out var d) ? d
        : v.TryGetValue<long>(out var l) ? l
        : v.TryGetValue<int>(out var i) ? i
        : v.TryGetValue<decimal>(out var m) ? (double)m
        : null;

    private static int? Count(JsonNode? node) => Number(node) is { } n ? (int)n : null;

    private static string Render(JsonNode? value) => value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "null";

    /// <summary>
    /// kube's structural-schema rules, as far as they matter here: every node says its type (unless it
    /// is int-or-string or preserves unknown fields), the root is an object, and a node has properties
    /// or additionalProperties, not both.
    /// </summary>
    public static void CheckStructural(JsonObject schema, FieldPath path, List<FieldError> errors, bool isRoot = true)
    {
        var type = Str(schema, "type");
        var exempt = Flag(schema, "x-kubernetes-int-or-string") || Flag(schema, "x-kubernetes-preserve-unknown-fields");
        if (type is null && !exempt)
        {
            errors.Add(FieldError.Required(path.Child("type"), "must not be empty for specified object fields"));
        }
        else if (type is not null and not ("object" or "array" or "string" or "integer" or "number" or "boolean"))
        {
            errors.Add(FieldError.NotSupported(path.Child("type"), type, ["array", "boolean", "integer", "number", "object", "string"]));
        }

        if (isRoot && type is not null and not "object")
        {
            errors.Add(FieldError.Invalid(path.Child("type"), type, "must be object at the root"));
        }

        if (Properties(schema) is { } properties)
        {
            if (schema["additionalProperties"] is not null)
            {
                errors.Add(FieldError.Forbidden(path.Child("additionalProperties"), "additionalProperties and properties are mutual exclusive"));
            }

            foreach (var (name, node) in properties)
            {
                if (node is JsonObject property)
                {
                    CheckStructural(property, path.Child("properties").Key(name), errors, isRoot: false);
                }
            }
        }

        if (schema["items"] is JsonObject items)
        {
            CheckStructural(items, path.Child("items"), errors, isRoot: false);
        }
        else if (type == "array")
        {
            errors.Add(FieldError.Required(path.Child("items"), "must be specified"));
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            CheckStructural(additional, path.Child("additionalProperties"), errors, isRoot: false);
        }

        if (Str(schema, "pattern") is { } pattern)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                errors.Add(FieldError.Invalid(path.Child("pattern"), pattern, $"must be a valid regular expression, but isn't: {e.Message}"));
            }
        }
    }
}
