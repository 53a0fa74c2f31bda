using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>
/// A set of field paths in Kubernetes' <c>FieldsV1</c> form (structured-merge-diff's fieldpath.Set): a tree
/// whose keys are path elements — <c>f:name</c> a field, <c>k:{"name":"web"}</c> the item of a keyed list,
/// <c>v:"x"</c> a member of a set list — where a node is either a member of the set, or only on the way to
/// members, or both (then its JSON holds <c>.</c>). Which lists are keyed or sets comes from the kind's
/// <see cref="PatchSchema"/>: merge keys for built-in kinds, <c>x-kubernetes-list-type</c> for custom
/// resources; other lists are atomic, owned whole.
/// </summary>
public sealed partial class FieldSet
{
    private readonly SortedDictionary<string, FieldSet> _children = new(StringComparer.Ordinal);

    /// <summary>Whether the path that leads here is itself in the set.</summary>
    private bool _member;

    /// <summary>No member anywhere below.</summary>
    public bool IsEmpty => !_member && _children.Count == 0;

    /// <summary>Every member path.</summary>
    public List<string[]> Members()
    {
        var members = new List<string[]>();
        Collect([], members);
        return members;
    }

    private void Collect(List<string> prefix, List<string[]> members)
    {
        foreach (var (element, child) in _children)
        {
            prefix.Add(element);
            if (child._member)
            {
                members.Add([.. prefix]);
            }

            child.Collect(prefix, members);
            prefix.RemoveAt(prefix.Count - 1);
        }
    }

    private FieldSet? Node(string[] path)
    {
        var node = this;
        foreach (var element in path)
        {
            if (!node._children.TryGetValue(element, out node))
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Whether the path is a member.</summary>
    public bool Has(string[] path) => path.Length > 0 && Node(path) is { _member: true };

    /// <summary>Whether the path or anything below it is a member.</summary>
    public bool HasAtOrUnder(string[] path) => Node(path) is { } node && (node._member || node._children.Count > 0);

    public void Insert(string[] path)
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

        node._member = path.Length > 0;
    }

    public void InsertAll(FieldSet other)
    {
        foreach (var path in other.Members())
        {
            Insert(path);
        }
    }

    /// <summary>Takes one path out of the set (what is below it stays); nodes left with nothing go.</summary>
    public void Delete(string[] path) => Delete(path, 0);

    private bool Delete(string[] path, int depth)
    {
        if (depth == path.Length)
        {
            _member = false;
        }
        else if (_children.TryGetValue(path[depth], out var child) && child.Delete(path, depth + 1))
        {
            _children.Remove(path[depth]);
        }

        return IsEmpty;
    }

    public void DeleteAll(FieldSet other)
    {
        foreach (var path in other.Members())
        {
            Delete(path);
        }
    }

    /// <summary>The same members (what decides whether a manager's entry changed).</summary>
    public bool SetEquals(FieldSet other) =>
        _member == other._member && _children.Count == other._children.Count
        && _children.All(c => other._children.TryGetValue(c.Key, out var o) && c.Value.SetEquals(o));

    public FieldSet Clone()
    {
        var copy = new FieldSet { _member = _member };
        foreach (var (element, child) in _children)
        {
            copy._children[element] = child.Clone();
        }

        return copy;
    }

    /// <summary>The <c>fieldsV1</c> JSON: a member with nothing below is <c>{}</c>, one with children also holds <c>"."</c>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (element, child) in _children)
        {
            var value = child.ToJson();
            if (child._member && child._children.Count > 0)
            {
                value.Insert(0, ".", new JsonObject());
            }

            json[element] = value;
        }

        return json;
    }

    public static FieldSet FromJson(JsonNode? json)
    {
        var set = new FieldSet();
        if (json is JsonObject obj)
        {
            Read(set, obj);
        }

        return set;
    }

    private static void Read(FieldSet node, JsonObject obj)
    {
        foreach (var (element, value) in obj)
        {
            if (element == ".")
            {
                continue;
            }

            var child = new FieldSet();
            var inner = value as JsonObject ?? [];
            child._member = inner.Count == 0 || inner.ContainsKey(".");
            Read(child, inner);
            node._children[element] = child;
        }
    }
}
