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
    /// <summary>The children in ordinal order of their path elements (a sorted list: most nodes have a handful).</summary>
    private readonly List<KeyValuePair<string, FieldSet>> _children = [];

    /// <summary>Whether the path that leads here is itself in the set.</summary>
    private bool _member;

    private int IndexOf(string element)
    {
        int low = 0, high = _children.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var order = string.CompareOrdinal(_children[middle].Key, element);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    private FieldSet? Child(string element) => IndexOf(element) is var i and >= 0 ? _children[i].Value : null;

    private FieldSet GetOrAddChild(string element)
    {
        var i = IndexOf(element);
        if (i >= 0)
        {
            return _children[i].Value;
        }

        var child = new FieldSet();
        _children.Insert(~i, KeyValuePair.Create(element, child));
        return child;
    }

    private void RemoveChild(string element)
    {
        if (IndexOf(element) is var i and >= 0)
        {
            _children.RemoveAt(i);
        }
    }

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
        FieldSet? node = this;
        foreach (var element in path)
        {
            node = node.Child(element);
            if (node is null)
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

    public void Insert(IReadOnlyList<string> path)
    {
        var node = this;
        foreach (var element in path)
        {
            node = node.GetOrAddChild(element);
        }

        node._member = path.Count > 0;
    }

    /// <summary>Adds every member of <paramref name="other"/> (a union, walking both trees).</summary>
    public void InsertAll(FieldSet other)
    {
        foreach (var (element, theirs) in other._children)
        {
            var mine = GetOrAddChild(element);
            mine._member |= theirs._member;
            mine.InsertAll(theirs);
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
        else if (Child(path[depth]) is { } child && child.Delete(path, depth + 1))
        {
            RemoveChild(path[depth]);
        }

        return IsEmpty;
    }

    /// <summary>Takes every member of <paramref name="other"/> out (a difference, walking both trees).</summary>
    public void DeleteAll(FieldSet other)
    {
        foreach (var (element, theirs) in other._children)
        {
            if (Child(element) is not { } mine)
            {
                continue;
            }

            if (theirs._member)
            {
                mine._member = false;
            }

            mine.DeleteAll(theirs);
            if (mine.IsEmpty)
            {
                RemoveChild(element);
            }
        }
    }

    /// <summary>The same members (what decides whether a manager's entry changed).</summary>
    public bool SetEquals(FieldSet other) =>
        _member == other._member && _children.Count == other._children.Count
        && _children.Select((c, i) => c.Key == other._children[i].Key && c.Value.SetEquals(other._children[i].Value)).All(same => same);

    public FieldSet Clone()
    {
        var copy = new FieldSet { _member = _member };
        foreach (var (element, child) in _children)
        {
            copy._children.Add(KeyValuePair.Create(element, child.Clone()));
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

            var child = node.GetOrAddChild(element);
            var inner = value as JsonObject ?? [];
            child._member = inner.Count == 0 || inner.ContainsKey(".");
            Read(child, inner);
        }
    }
}
