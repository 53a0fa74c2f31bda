using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// JSON values as the Cel package evaluates them, typed by the schema (kube's UnstructuredToVal):
/// objects with properties become maps keyed by the escaped property names, maps and free-form
/// objects maps by their keys, arrays <see cref="CelList"/>s, integers <see cref="long"/>, numbers
/// <see cref="double"/>. At the resource root only apiVersion, kind and metadata.name/generateName
/// are visible, as in kube.
/// </summary>
public static class CelValues
{
    public static object? FromJson(JsonNode? value, RuleType type, bool isResourceRoot = false)
    {
        switch (value)
        {
            case null:
                return null;
            case JsonObject obj when type.Kind == RuleKind.Object && type.FieldNames is { } names:
                var fields = new CelDictionary();
                foreach (var (escaped, name) in names)
                {
                    if (obj.TryGetPropertyValue(name, out var field) && field is not null)
                    {
                        if (isResourceRoot && name == "metadata")
                        {
                            fields[escaped] = Metadata(field as JsonObject);
                        }
                        else
                        {
                            fields[escaped] = FromJson(field, type.Fields![escaped]);
                        }
                    }
                }

                return fields;
            case JsonObject obj:
                var map = new CelDictionary();
                var values = type.Kind == RuleKind.Map ? type.Elem! : RuleType.Dyn;
                foreach (var (key, item) in obj)
                {
                    map[key] = FromJson(item, values);
                }

                return map;
            case JsonArray array:
                var elem = type.Kind == RuleKind.List ? type.Elem! : RuleType.Dyn;
                var items = new object?[array.Count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = FromJson(array[i], elem);
                }

                return new CelList(items);
            case JsonValue scalar:
                return Scalar(scalar, type);
            default:
                return null;
        }
    }

    private static CelDictionary Metadata(JsonObject? metadata)
    {
        var visible = new CelDictionary();
        foreach (var name in (string[])["name", "generateName"])
        {
            if (metadata?[name] is JsonValue v && v.TryGetValue<string>(out var s))
            {
                visible[name] = s;
            }
        }

        return visible;
    }

    private static object? Scalar(JsonValue value, RuleType type)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return value.GetValue<string>();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                if (type.Kind != RuleKind.Double && value.TryGetValue<long>(out var l))
                {
                    return l;
                }

                if (value.TryGetValue<double>(out var d))
                {
                    return type.Kind != RuleKind.Double && d % 1 == 0 && d is > long.MinValue and < long.MaxValue ? (long)d : d;
                }

                return value.TryGetValue<int>(out var i) ? (type.Kind == RuleKind.Double ? (double)i : (long)i) : null;
            default:
                return null;
        }
    }
}
