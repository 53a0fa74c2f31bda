using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// RFC 6902 JSON patch (what <c>kubectl patch --type json</c> and <c>kubectl rollout undo</c> send):
/// <c>add</c>, <c>remove</c>, <c>replace</c>, <c>move</c>, <c>copy</c> and <c>test</c>, applied in order to a
/// copy of the target; any failure rejects the whole patch. Errors are worded as evanphx/json-patch (the
/// library kube-apiserver uses) words them. The whole patch document is checked before the first
/// operation runs, so a malformed operation is a 400 even when an earlier one would fail with a 422.
/// </summary>
/// <remarks>
/// Where evanphx/json-patch v4 departs from the RFC we follow the RFC: <c>replace</c> of a missing member
/// fails (evanphx adds it), negative array indices are refused (evanphx counts from the end), a
/// <c>test</c> of a missing member fails even against <c>null</c>, and an unknown <c>op</c> or a missing
/// <c>value</c> is a malformed patch (400) rather than an apply error (422).
/// </remarks>
public static class JsonPatch
{
    public static JsonNode Apply(JsonNode target, JsonNode patch)
    {
        var operations = Parse(patch);
        var document = target.DeepClone();
        foreach (var operation in operations)
        {
            document = operation.Name switch
            {
                "add" => Insert(document, operation.Path, operation.Value?.DeepClone(), "add",
                    $"add operation does not apply: doc is missing path: \"{operation.Path}\": missing value"),
                "remove" => Remove(document, operation.Path),
                "replace" => Replace(document, operation.Path, operation.Value),
                "move" => Move(document, operation.From!, operation.Path),
                "copy" => Copy(document, operation.From!, operation.Path),
                _ => Test(document, operation.Path, operation.Value),
            };
        }

        return document;
    }

    private sealed record Operation(string Name, JsonPointer Path, JsonPointer? From, JsonNode? Value);

    private static List<Operation> Parse(JsonNode patch)
    {
        if (patch is not JsonArray array)
        {
            throw PatchException.BadRequest($"json: cannot unmarshal {GoKind(patch)} into Go value of type jsonpatch.Patch");
        }

        var operations = new List<Operation>(array.Count);
        foreach (var entry in array)
        {
            if (entry is not JsonObject op)
            {
                throw PatchException.BadRequest($"json: cannot unmarshal {GoKind(entry)} into Go value of type jsonpatch.Operation");
            }

            var name = op["op"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "unknown";
            if (name is not ("add" or "remove" or "replace" or "move" or "copy" or "test"))
            {
                throw PatchException.BadRequest($"Unexpected kind: {name}");
            }

            var path = Pointer(op, "path", name);
            var from = name is "move" or "copy" ? Pointer(op, "from", name) : null;
            JsonNode? value = null;
            if (name is "add" or "replace" or "test" && !op.TryGetPropertyValue("value", out value))
            {
                throw PatchException.BadRequest($"{name} operation, missing value field: missing value");
            }

            operations.Add(new Operation(name, path, from, value));
        }

        return operations;
    }

    private static JsonPointer Pointer(JsonObject op, string member, string name)
    {
        if (!op.TryGetPropertyValue(member, out var node) || node is null)
        {
            var missing = member == "path" ? "operation missing path field" : "operation, missing from field";
            throw PatchException.BadRequest($"{name} operation failed to decode {member}: {missing}: missing value");
        }

        if (node is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            throw PatchException.BadRequest($"{name} operation failed to decode {member}: json: cannot unmarshal {GoKind(node)} into Go value of type string");
        }

        return JsonPointer.TryParse(text, out var pointer)
            ? pointer
            : throw PatchException.BadRequest($"{name} operation failed to decode {member}: invalid JSON pointer \"{text}\"");
    }

    private static string GoKind(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "null",
    };

    /// <summary>Follows the first <paramref name="count"/> tokens; false when a member or index on the way is missing.</summary>
    private static bool TryResolve(JsonNode? document, JsonPointer pointer, int count, out JsonNode? node)
    {
        node = document;
        for (var i = 0; i < count; i++)
        {
            var token = pointer.Tokens[i];
            switch (node)
            {
                case JsonObject o when o.TryGetPropertyValue(token, out var child):
                    node = child;
                    break;
                case JsonArray a when JsonPointer.Index(token, a.Count, allowEnd: false) is var index and >= 0:
                    node = a[index];
                    break;
                default:
                    node = null;
                    return false;
            }
        }

        return true;
    }

    private static JsonNode? Parent(JsonNode document, JsonPointer pointer) =>
        TryResolve(document, pointer, pointer.Tokens.Count - 1, out var parent) ? parent : null;

    /// <summary>The RFC "add" step shared by add, move and copy; returns the (possibly new) document.</summary>
    private static JsonNode Insert(JsonNode document, JsonPointer path, JsonNode? value, string op, string missingPath)
    {
        if (path.IsRoot)
        {
            return value ?? throw PatchException.Unprocessable($"{op} operation value must be object or array");
        }

        switch (Parent(document, path))
        {
            case JsonObject o:
                o[path.Last] = value;
                return document;
            case JsonArray a when path.Last == "-":
                a.Add(value);
                return document;
            case JsonArray a:
                var index = JsonPointer.Index(path.Last, a.Count, allowEnd: true);
                if (index < 0)
                {
                    throw PatchException.Unprocessable($"error in {op} for path: '{path}': {InvalidIndex(path.Last)}");
                }

                a.Insert(index, value);
                return document;
            default:
                throw PatchException.Unprocessable(missingPath);
        }
    }

    private static string InvalidIndex(string token) =>
        token.All(char.IsAsciiDigit) && token.Length > 0
            ? $"Unable to access invalid index: {token}: invalid index referenced"
            : $"value was not a proper array index: '{token}'";

    private static JsonNode Remove(JsonNode document, JsonPointer path)
    {
        var parent = path.IsRoot ? null : Parent(document, path);
        switch (parent)
        {
            case JsonObject o when o.Remove(path.Last):
                return document;
            case JsonObject:
                throw PatchException.Unprocessable($"error in remove for path: '{path}': Unable to remove nonexistent key: {path.Last}: missing value");
            case JsonArray a when JsonPointer.Index(path.Last, a.Count, allowEnd: false) is var index and >= 0:
                a.RemoveAt(index);
                return document;
            case JsonArray:
                throw PatchException.Unprocessable($"error in remove for path: '{path}': {InvalidIndex(path.Last)}");
            default:
                throw PatchException.Unprocessable($"remove operation does not apply: doc is missing path: \"{path}\": missing value");
        }
    }

    private static JsonNode Replace(JsonNode document, JsonPointer path, JsonNode? value)
    {
        if (path.IsRoot)
        {
            return value?.DeepClone() ?? throw PatchException.Unprocessable("replace operation value must be object or array");
        }

        switch (Parent(document, path))
        {
            case JsonObject o when o.ContainsKey(path.Last):
                o[path.Last] = value?.DeepClone();
                return document;
            case JsonArray a when JsonPointer.Index(path.Last, a.Count, allowEnd: false) is var index and >= 0:
                a[index] = value?.DeepClone();
                return document;
            default:
                throw PatchException.Unprocessable($"replace operation does not apply: doc is missing path: {path}: missing value");
        }
    }

    private static JsonNode Move(JsonNode document, JsonPointer from, JsonPointer path)
    {
        if (from.IsRoot || !TryResolve(document, from, from.Tokens.Count, out var value))
        {
            throw PatchException.Unprocessable($"move operation does not apply: doc is missing from path: {from}: missing value");
        }

        if (path.IsInside(from))
        {
            throw PatchException.Unprocessable($"move operation does not apply: cannot move {from} into its own child {path}");
        }

        if (path.Text == from.Text)
        {
            return document;
        }

        // Detach the value, then insert it; the working document is a private copy, so a failing insert
        // leaves nothing half-done for the caller to see.
        document = Remove(document, from);
        return Insert(document, path, value, "move", $"move operation does not apply: doc is missing destination path: {path}: missing value");
    }

    private static JsonNode Copy(JsonNode document, JsonPointer from, JsonPointer path)
    {
        if (!TryResolve(document, from, from.Tokens.Count, out var value))
        {
            throw PatchException.Unprocessable($"copy operation does not apply: doc is missing from path: {from}: missing value");
        }

        return Insert(document, path, value?.DeepClone(), "copy", $"copy operation does not apply: doc is missing destination path: {path}: missing value");
    }

    private static JsonNode Test(JsonNode document, JsonPointer path, JsonNode? expected)
    {
        if (!path.IsRoot && !TryResolve(document, path, path.Tokens.Count - 1, out _))
        {
            throw PatchException.Unprocessable($"test operation does not apply: is missing path: {path}: missing value");
        }

        // RFC 6902 §4.6: numbers compare by value, objects ignore member order; DeepEquals does both.
        if (!TryResolve(document, path, path.Tokens.Count, out var actual) || !JsonNode.DeepEquals(actual, expected))
        {
            throw PatchException.Unprocessable($"testing value {path} failed: test failed");
        }

        return document;
    }
}
