using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// <c>x-kubernetes-list-type</c>, <c>x-kubernetes-list-map-keys</c> and <c>x-kubernetes-map-type</c>:
/// the rules a CRD's schema must meet for them (kube's apiextensions validation, with its wording and
/// paths), and the uniqueness a custom object's <c>set</c> and <c>map</c> lists must keep (kube's
/// listtype validation: the second occurrence of a value or key tuple is a Duplicate value).
/// </summary>
public static class ListTypes
{
    /// <summary>
    /// Checks one schema node and everything below it. <paramref name="requireAtomicSetItems"/> and
    /// <paramref name="requireMapKeysSet"/> are kube's ratcheted rules: on for new definitions, on for an
    /// update only when the stored definition already met them.
    /// </summary>
    public static void CheckSchema(JsonObject schema, FieldPath path, List<FieldError> errors, bool requireAtomicSetItems = true, bool requireMapKeysSet = true)
    {
        var type = Str(schema, "type") ?? string.Empty;
        var mapType = Str(schema, "x-kubernetes-map-type");
        var listType = Str(schema, "x-kubernetes-list-type");
        var keys = schema["x-kubernetes-list-map-keys"] as JsonArray ?? [];
        var items = schema["items"] as JsonObject;

        if (mapType is not null && type != "object")
        {
            errors.Add(type.Length == 0
                ? FieldError.Required(path.Child("type"), "must be object if x-kubernetes-map-type is specified")
                : FieldError.Invalid(path.Child("type"), type, "must be object if x-kubernetes-map-type is specified"));
        }

        if (mapType is not null and not ("atomic" or "granular"))
        {
            errors.Add(FieldError.NotSupported(path.Child("x-kubernetes-map-type"), mapType, ["atomic", "granular"]));
        }

        if (listType is not null && type != "array")
        {
            errors.Add(type.Length == 0
                ? FieldError.Required(path.Child("type"), "must be array if x-kubernetes-list-type is specified")
                : FieldError.Invalid(path.Child("type"), type, "must be array if x-kubernetes-list-type is specified"));
        }
        else if (requireAtomicSetItems && listType == "set" && items is not null)
        {
            var itemsPath = path.Child("items");
            var itemListType = Str(items, "x-kubernetes-list-type");
            switch (Str(items, "type"))
            {
                case "array" when itemListType is not null and not "atomic":
                    errors.Add(FieldError.Invalid(itemsPath.Child("x-kubernetes-list-type"), itemListType, "must be atomic as item of a list with x-kubernetes-list-type=set"));
                    break;
                case "object" when Str(items, "x-kubernetes-map-type") != "atomic":
                    // kube reports the items' list type here (usually unset, so "null").
                    errors.Add(FieldError.Invalid(itemsPath.Child("x-kubernetes-map-type"), itemListType ?? "null", "must be atomic as item of a list with x-kubernetes-list-type=set"));
                    break;
            }
        }

        if (listType is not null and not ("atomic" or "set" or "map"))
        {
            errors.Add(FieldError.NotSupported(path.Child("x-kubernetes-list-type"), listType, ["atomic", "set", "map"]));
        }

        if (keys.Count > 0)
        {
            if (listType is null)
            {
                errors.Add(FieldError.Required(path.Child("x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"));
            }
            else if (listType != "map")
            {
                errors.Add(FieldError.Invalid(path.Child("x-kubernetes-list-type"), listType, "must be map if x-kubernetes-list-map-keys is non-empty"));
            }
        }

        if (listType == "map")
        {
            CheckMapList(schema, items, keys, path, errors);
        }

        if (requireMapKeysSet && listType is "set" or "map" && items is not null)
        {
            CheckMapKeysSet(listType, items, keys, path, errors);
        }

        foreach (var (name, property) in schema["properties"] as JsonObject ?? [])
        {
            if (property is JsonObject child)
            {
                CheckSchema(child, path.Child("properties").Key(name), errors, requireAtomicSetItems, requireMapKeysSet);
            }
        }

        if (items is not null)
        {
            CheckSchema(items, path.Child("items"), errors, requireAtomicSetItems, requireMapKeysSet);
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            CheckSchema(additional, path.Child("additionalProperties"), errors, requireAtomicSetItems, requireMapKeysSet);
        }
    }

    private static void CheckMapList(JsonObject schema, JsonObject? items, JsonArray keys, FieldPath path, List<FieldError> errors)
    {
        if (keys.Count == 0)
        {
            errors.Add(FieldError.Required(path.Child("x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
        }

        if (items is null)
        {
            errors.Add(FieldError.Required(path.Child("items"), "must have a schema if x-kubernetes-list-type is map"));
            return;
        }

        var itemType = Str(items, "type") ?? string.Empty;
        if (itemType != "object")
        {
            errors.Add(FieldError.Invalid(path.Child("items").Child("type"), itemType, "must be object if parent array's x-kubernetes-list-type is map"));
            return;
        }

        var rendered = "[]string{" + string.Join(", ", keys.Select(k => GoSyntax.Quote(k?.ToString() ?? string.Empty))) + "}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys.Select(k => k is JsonValue v && v.TryGetValue<string>(out var s) ? s : k?.ToJsonString() ?? "null"))
        {
            if (items["properties"]?[key] is JsonObject property)
            {
                if (Str(property, "type") is "array" or "object")
                {
                    // kube reports the items' type as the bad value.
                    errors.Add(FieldError.Invalid(path.Child("items").Child("properties").Key(key).Child("type"), itemType, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
                }
            }
            else
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("x-kubernetes-list-map-keys").ToString(), rendered, "entries must all be names of item properties"));
            }

            if (!seen.Add(key))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("x-kubernetes-list-map-keys").ToString(), rendered, "must not contain duplicate entries"));
            }
        }
    }

    private static void CheckMapKeysSet(string listType, JsonObject items, JsonArray keys, FieldPath path, List<FieldError> errors)
    {
        if (Flag(items, "nullable"))
        {
            errors.Add(FieldError.Forbidden(path.Child("items").Child("nullable"), "cannot be nullable when x-kubernetes-list-type is " + listType));
        }

        if (listType != "map")
        {
            return;
        }

        var required = (items["required"] as JsonArray ?? []).Select(r => r?.ToString()).ToHashSet(StringComparer.Ordinal);
        foreach (var key in keys.Select(k => k?.ToString() ?? string.Empty))
        {
            if (items["properties"]?[key] is not JsonObject property)
            {
                continue; // already reported: not an item property
            }

            var propertyPath = path.Child("items").Child("properties").Key(key);
            if (!required.Contains(key) && property["default"] is null)
            {
                errors.Add(FieldError.Required(propertyPath.Child("default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
            }

            if (Flag(property, "nullable"))
            {
                errors.Add(FieldError.Forbidden(propertyPath.Child("nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
            }
        }
    }

    /// <summary>Whether a schema (anywhere below) breaks a ratcheted rule; an update keeps tolerating what the stored definition had.</summary>
    public static (bool NonAtomicSetItems, bool MapKeysSet) Ratcheted(JsonObject schema)
    {
        var atomic = new List<FieldError>();
        CheckSchema(schema, FieldPath.Root(string.Empty), atomic, requireAtomicSetItems: true, requireMapKeysSet: false);
        var loose = new List<FieldError>();
        CheckSchema(schema, FieldPath.Root(string.Empty), loose, requireAtomicSetItems: false, requireMapKeysSet: false);
        var keys = new List<FieldError>();
        CheckSchema(schema, FieldPath.Root(string.Empty), keys, requireAtomicSetItems: false, requireMapKeysSet: true);
        return (atomic.Count > loose.Count, keys.Count > loose.Count);
    }

    /// <summary>
    /// A custom object's <c>set</c> lists hold each value once and its <c>map</c> lists each key tuple once;
    /// the first repeat of each is a Duplicate value at its index (kube's ValidateListSetsAndMaps).
    /// </summary>
    public static void ValidateUniqueness(JsonObject schema, JsonObject obj, List<FieldError> errors) =>
        ValidateObject(schema, obj, FieldPath.Root(string.Empty), errors);

    private static void ValidateObject(JsonObject schema, JsonObject obj, FieldPath path, List<FieldError> errors)
    {
        if (schema["additionalProperties"] is JsonObject additional)
        {
            foreach (var (name, value) in obj)
            {
                ValidateValue(additional, value, path.Key(name), errors);
            }
        }

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, value) in obj)
            {
                if (properties[name] is JsonObject property)
                {
                    ValidateValue(property, value, path.Child(name), errors);
                }
            }
        }
    }

    private static void ValidateValue(JsonObject schema, JsonNode? value, FieldPath path, List<FieldError> errors)
    {
        switch (value)
        {
            case JsonObject obj:
                ValidateObject(schema, obj, path, errors);
                break;
            case JsonArray array:
                ValidateArray(schema, array, path, errors);
                break;
        }
    }

    private static void ValidateArray(JsonObject schema, JsonArray array, FieldPath path, List<FieldError> errors)
    {
        switch (Str(schema, "x-kubernetes-list-type"))
        {
            case "set":
                foreach (var i in Repeats([.. array.Select(item => Identity(item))]))
                {
                    errors.Add(new FieldError(FieldErrorType.Duplicate, path.Index(i).ToString(), GoValue(array[i]), string.Empty));
                }

                break;
            case "map":
                ValidateMapList(schema, array, path, errors);
                break;
        }

        if (schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                ValidateValue(items, array[i], path.Index(i), errors);
            }
        }
    }

    private static void ValidateMapList(JsonObject schema, JsonArray array, FieldPath path, List<FieldError> errors)
    {
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not (null or JsonObject))
            {
                errors.Add(FieldError.Invalid(path.Index(i), array[i], "must be an object for an array of list-type map"));
                return;
            }
        }

        var keyFields = (schema["x-kubernetes-list-map-keys"] as JsonArray ?? []).Select(k => k?.ToString() ?? string.Empty).ToList();
        var keys = array.Select(item =>
        {
            var key = new JsonObject();
            foreach (var field in keyFields)
            {
                if (item is JsonObject obj && obj.TryGetPropertyValue(field, out var value))
                {
                    key[field] = value?.DeepClone();
                }
            }

            return key;
        }).ToList();
        foreach (var i in Repeats([.. keys.Select(k => Identity(k))]))
        {
            errors.Add(new FieldError(FieldErrorType.Duplicate, path.Index(i).ToString(), GoValue(keys[i]), string.Empty));
        }
    }

    /// <summary>The indexes where a value occurs the second time (later repeats are not reported again).</summary>
    private static IEnumerable<int> Repeats(IReadOnlyList<string> identities)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < identities.Count; i++)
        {
            seen[identities[i]] = seen.GetValueOrDefault(identities[i]) + 1;
            if (seen[identities[i]] == 2)
            {
                yield return i;
            }
        }
    }

    /// <summary>A value's identity for uniqueness: its JSON with object keys in order (so key order does not matter).</summary>
    private static string Identity(JsonNode? value) => value switch
    {
        JsonObject obj => "{" + string.Join(",", obj.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => GoSyntax.Quote(kv.Key) + ":" + Identity(kv.Value))) + "}",
        JsonArray array => "[" + string.Join(",", array.Select(Identity)) + "]",
        null => "null",
        _ => value.ToJsonString(),
    };

    /// <summary>
    /// A value as kube's field errors print an unstructured one: strings quoted, numbers and booleans bare,
    /// maps and lists in Go's <c>%#v</c> form (<c>map[string]interface {}{"name":"a"}</c>).
    /// </summary>
    internal static string GoValue(JsonNode? value) => value switch
    {
        null => "\"null\"",
        JsonObject or JsonArray => GoSyntax.Of(value),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => GoSyntax.Quote(v.GetValue<string>()),
        _ => value.ToJsonString(),
    };

    private static string? Str(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
