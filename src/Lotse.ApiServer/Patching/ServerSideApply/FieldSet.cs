using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>
/// A set of field paths in Kubernetes' <c>FieldsV1</c> form: a tree whose keys are path elements —
/// <c>f:name</c> a field, <c>k:{"name":"web"}</c> the item of a keyed list, <c>v:"x"</c> a member of a set
/// list, <c>.</c> the item itself — and whose leaves are empty objects. Which lists are keyed or sets
/// comes from the kind's strategic-merge metadata (the merge keys kube's schemas also name as list
/// map keys); other lists are atomic, owned whole.
/// </summary>
public sealed class FieldSet
{
    private readonly SortedDictionary<string, FieldSet> _children = new(StringComparer.Ordinal);

    public bool IsEmpty => _children.Count == 0;

    /// <summary>What an object's fields are, as a manager that wrote it owns them (identity, status and bookkeeping left out).</summary>
    public static FieldSet Of(JsonObject obj, PatchSchema schema, bool status)
    {
        var set = new FieldSet();
        foreach (var (name, value) in obj)
        {
            if (name is "apiVersion" or "kind" || (name == "status") != status)
            {
                continue;
            }

            if (name == "metadata")
            {
                if (value is JsonObject metadata)
                {
                    var tracked = new FieldSet();
                    foreach (var field in (string[])["labels", "annotations", "finalizers", "ownerReferences"])
                    {
                        if (metadata[field] is { } child)
                        {
                            tracked._children["f:" + field] = OfValue(child, schema.Field("metadata").Schema.Field(field));
                        }
                    }

                    if (!tracked.IsEmpty)
                    {
                        set._children["f:metadata"] = tracked;
                    }
                }

                continue;
            }

            set._children["f:" + name] = OfValue(value, schema.Field(name));
        }

        return set;
    }

    private static FieldSet OfValue(JsonNode? value, PatchField field)
    {
        var set = new FieldSet();
        switch (value)
        {
            case JsonObject obj when !field.ReplacesMap:
                foreach (var (name, child) in obj)
                {
                    set._children["f:" + name] = OfValue(child, field.Schema.Field(name));
                }

                break;
            case JsonArray array when field.MergesList && field.MergeKey is { } key:
                foreach (var item in array.OfType<JsonObject>())
                {
                    var itemSet = new FieldSet();
                    itemSet._children["."] = new FieldSet();
                    foreach (var (name, child) in item)
                    {
                        itemSet._children["f:" + name] = OfValue(child, field.Schema.Field(name));
                    }

                    set._children[ItemKey(key, item[key])] = itemSet;
                }

                break;
            case JsonArray array when field.MergesList:
                foreach (var item in array)
                {
                    set._children["v:" + (item?.ToJsonString() ?? "null")] = new FieldSet();
                }

                break;
        }

        return set;
    }

    internal static string ItemKey(string key, JsonNode? value) => "k:" + new JsonObject { [key] = value?.DeepClone() }.ToJsonString();

    /// <summary>Every path to a leaf (a field owned as a value, or a keyed item's <c>.</c>).</summary>
    public List<string[]> Leaves()
    {
        var leaves = new List<string[]>();
        Collect([], leaves);
        return leaves;
    }

    private void Collect(List<string> prefix, List<string[]> leaves)
    {
        foreach (var (element, child) in _children)
        {
            prefix.Add(element);
            if (child.IsEmpty)
            {
                leaves.Add([.. prefix]);
            }
            else
            {
                child.Collect(prefix, leaves);
            }

            prefix.RemoveAt(prefix.Count - 1);
        }
    }

    public bool Contains(string[] path)
    {
        var node = this;
        foreach (var element in path)
        {
            if (!node._children.TryGetValue(element, out node))
            {
                return false;
            }
        }

        return true;
    }

    public void Add(string[] path)
    {
        var node = this;
        foreach (var element in path)
        {
            if (!node._children.TryGetValue(element, out var child))
            {
                node._children[element] = child = new FieldSet();
            }

            node = child;
        }
    }

    /// <summary>Removes a path and every path below it; parents left empty go too.</summary>
    public void Remove(string[] path)
    {
        if (path.Length == 0)
        {
            return;
        }

        if (path.Length == 1)
        {
            _children.Remove(path[0]);
            return;
        }

        if (_children.TryGetValue(path[0], out var child))
        {
            child.Remove(path[1..]);
            if (child.IsEmpty)
            {
                _children.Remove(path[0]);
            }
        }
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (element, child) in _children)
        {
            json[element] = child.ToJson();
        }

        return json;
    }

    public static FieldSet FromJson(JsonNode? json)
    {
        var set = new FieldSet();
        if (json is JsonObject obj)
        {
            foreach (var (element, child) in obj)
            {
                set._children[element] = FromJson(child);
            }
        }

        return set;
    }

    /// <summary>The value at a path in an object: a field, a keyed item, or a set member (the member itself); null when absent.</summary>
    public static bool TryFind(JsonNode? root, string[] path, out JsonNode? value)
    {
        value = root;
        foreach (var element in path)
        {
            if (element == ".")
            {
                continue;
            }

            switch (element[0], value)
            {
                case ('f', JsonObject obj) when obj.TryGetPropertyValue(element[2..], out var field):
                    value = field;
                    break;
                case ('k', JsonArray array):
                    var key = JsonNode.Parse(element[2..])!.AsObject().Single();
                    value = array.OfType<JsonObject>().FirstOrDefault(i => JsonNode.DeepEquals(i[key.Key], key.Value));
                    if (value is null)
                    {
                        return false;
                    }

                    break;
                case ('v', JsonArray array):
                    var member = JsonNode.Parse(element[2..]);
                    value = array.FirstOrDefault(i => JsonNode.DeepEquals(i, member));
                    if (value is null && member is not null)
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>Removes what a path names from an object (a field, a keyed item, a set member).</summary>
    public static void RemoveFrom(JsonNode? root, string[] path)
    {
        var elements = path[^1] == "." ? path[..^1] : path;
        if (elements.Length == 0 || !TryFind(root, elements[..^1], out var parent))
        {
            return;
        }

        var last = elements[^1];
        switch (last[0], parent)
        {
            case ('f', JsonObject obj):
                obj.Remove(last[2..]);
                break;
            case ('k' or 'v', JsonArray array) when TryFind(array, [last], out var item) && item is not null:
                array.Remove(item);
                break;
        }
    }

    /// <summary>The path as kube prints it in conflicts: <c>.spec.replicas</c>, <c>.spec.containers[name="web"].image</c>.</summary>
    public static string Print(string[] path)
    {
        var text = new System.Text.StringBuilder();
        foreach (var element in path)
        {
            switch (element[0])
            {
                case 'f':
                    text.Append('.').Append(element[2..]);
                    break;
                case 'k':
                    var key = JsonNode.Parse(element[2..])!.AsObject().Single();
                    text.Append('[').Append(key.Key).Append('=').Append(key.Value?.ToJsonString(JsonOptions)).Append(']');
                    break;
                case 'v':
                    text.Append("[=").Append(element[2..]).Append(']');
                    break;
            }
        }

        return text.ToString();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
