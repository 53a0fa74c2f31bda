using System.Globalization;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>RFC 6902 JSON patch: add, remove, replace, move, copy and test, with RFC 6901 pointers.</summary>
public static class JsonPatch
{
    public static JsonNode Apply(JsonNode target, JsonNode patch)
    {
        if (patch is not JsonArray operations)
        {
            throw new PatchException("json patch must be an array of operations", malformed: true);
        }

        var document = target.DeepClone();
        foreach (var entry in operations)
        {
            if (entry is not JsonObject op)
            {
                throw new PatchException("json patch operation must be an object", malformed: true);
            }

            var name = op["op"]?.ToString() ?? throw new PatchException("json patch operation has no \"op\"", malformed: true);
            var path = op["path"]?.ToString() ?? throw new PatchException($"{name} operation has no \"path\"", malformed: true);
            switch (name)
            {
                case "add":
                    document = Add(document, path, Value(op, name));
                    break;
                case "remove":
                    document = Remove(document, path, name);
                    break;
                case "replace":
                    document = Remove(document, path, name);
                    document = Add(document, path, Value(op, name));
                    break;
                case "move":
                    var from = op["from"]?.ToString() ?? throw new PatchException("move operation has no \"from\"", malformed: true);
                    var moved = Get(document, from, name)?.DeepClone();
                    document = Remove(document, from, name);
                    document = Add(document, path, moved);
                    break;
                case "copy":
                    var source = op["from"]?.ToString() ?? throw new PatchException("copy operation has no \"from\"", malformed: true);
                    document = Add(document, path, Get(document, source, name)?.DeepClone());
                    break;
                case "test":
                    var actual = Get(document, path, name);
                    if (!JsonNode.DeepEquals(actual, op["value"]))
                    {
                        throw new PatchException($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw new PatchException($"Unexpected kind: {name}", malformed: true);
            }
        }

        return document;
    }

    private static JsonNode? Value(JsonObject op, string name) =>
        op.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw new PatchException($"{name} operation has no \"value\"", malformed: true);

    private static List<string> Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new PatchException($"invalid JSON pointer \"{pointer}\"", malformed: true);
        }

        return [.. pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Get(JsonNode? document, string pointer, string op)
    {
        var node = document;
        foreach (var token in Tokens(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw new PatchException($"{op} operation does not apply: doc is missing path: \"{pointer}\": missing value"),
            };
        }

        return node;
    }

    private static JsonNode Add(JsonNode document, string pointer, JsonNode? value)
    {
        var tokens = Tokens(pointer);
        if (tokens.Count == 0)
        {
            return value ?? throw new PatchException("cannot replace the whole document with null");
        }

        var parent = Get(document, ParentPointer(tokens), "add");
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count)
                {
                    a.Insert(i, value);
                }
                else
                {
                    throw new PatchException($"add operation does not apply: doc is missing path: \"{pointer}\": missing value");
                }

                break;
            default:
                throw new PatchException($"add operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }

        return document;
    }

    private static JsonNode Remove(JsonNode document, string pointer, string op)
    {
        var tokens = Tokens(pointer);
        if (tokens.Count == 0)
        {
            throw new PatchException($"{op} operation cannot remove the whole document");
        }

        var parent = Get(document, ParentPointer(tokens), op);
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last):
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException($"{op} operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }

        return document;
    }

    private static string ParentPointer(List<string> tokens) =>
        tokens.Count == 1 ? string.Empty : "/" + string.Join('/', tokens[..^1].Select(Escape));

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
