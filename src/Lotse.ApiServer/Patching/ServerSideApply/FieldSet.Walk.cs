using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

public sealed partial class FieldSet
{
    /// <summary>ObjectMeta fields no manager owns (structured-merge-diff's strip set in kube-apiserver).</summary>
    private static readonly HashSet<string> UntrackedMetadata =
        ["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion"];

    private static bool Tracked(string name, FieldScope scope) => name switch
    {
        "apiVersion" or "kind" => false,
        "status" => scope != FieldScope.Main,
        _ => scope != FieldScope.Status,
    };

    /// <summary>
    /// The fields an applied configuration sets, as its manager comes to own them (kube's ToFieldSet): every
    /// scalar, atomic list or atomic map; every item of a keyed or set list; a map's entry (its key is data)
    /// and an empty or null value also when there is more below.
    /// </summary>
    public static FieldSet Of(JsonObject obj, PatchSchema schema, FieldScope scope)
    {
        var set = new FieldSet();
        var path = new List<string>();
        foreach (var (name, value) in obj)
        {
            if (!Tracked(name, scope))
            {
                continue;
            }

            path.Add("f:" + name);
            if (name == "metadata" && value is JsonObject metadata)
            {
                var meta = schema.Field("metadata").Schema;
                foreach (var (field, child) in metadata)
                {
                    if (!UntrackedMetadata.Contains(field))
                    {
                        path.Add("f:" + field);
                        set.Walk(child, meta.Field(field), path, element: false);
                        path.RemoveAt(path.Count - 1);
                    }
                }
            }
            else
            {
                set.Walk(value, schema.Field(name), path, element: schema.IsElement(name));
            }

            path.RemoveAt(path.Count - 1);
        }

        return set;
    }

    private void Walk(JsonNode? value, PatchField field, List<string> path, bool element)
    {
        switch (Shape(value, field))
        {
            case NodeShape.Map:
                var obj = (JsonObject)value!;
                if (element || obj.Count == 0)
                {
                    Insert(path);
                }

                foreach (var (name, child) in obj)
                {
                    path.Add("f:" + name);
                    Walk(child, field.Schema.Field(name), path, field.Schema.IsElement(name));
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeShape.KeyedList:
                if (element)
                {
                    Insert(path);
                }

                var item = ItemField(field);
                foreach (var child in ((JsonArray)value!).OfType<JsonObject>())
                {
                    path.Add(ItemKey(field, child));
                    Insert(path);
                    Walk(child, item, path, element: false);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeShape.SetList:
                if (element)
                {
                    Insert(path);
                }

                foreach (var member in (JsonArray)value!)
                {
                    path.Add(MemberKey(member));
                    Insert(path);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            default:
                Insert(path);
                break;
        }
    }

    /// <summary>
    /// What a write changed, as kube's field manager compares the object before and after it: the fields
    /// added or modified (a map or list that did not exist before counts itself, too), and the fields removed.
    /// <paramref name="before"/> null is a create, compared against the empty object of the kind.
    /// </summary>
    public static (FieldSet Changed, FieldSet Removed) Compare(JsonObject? before, JsonObject after, PatchSchema schema, FieldScope scope)
    {
        var changed = new FieldSet();
        var removed = new FieldSet();
        var path = new List<string>();
        before ??= [];
        foreach (var name in Names(before, after))
        {
            if (!Tracked(name, scope))
            {
                continue;
            }

            var had = before.TryGetPropertyValue(name, out var old);
            var has = after.TryGetPropertyValue(name, out var now);
            path.Add("f:" + name);
            if (name == "metadata")
            {
                var oldMeta = old as JsonObject ?? [];
                var newMeta = now as JsonObject ?? [];
                var meta = schema.Field("metadata").Schema;
                foreach (var field in Names(oldMeta, newMeta))
                {
                    if (UntrackedMetadata.Contains(field))
                    {
                        continue;
                    }

                    path.Add("f:" + field);
                    Diff(oldMeta[field], oldMeta.ContainsKey(field), newMeta[field], newMeta.ContainsKey(field), meta.Field(field), path, changed, removed);
                    path.RemoveAt(path.Count - 1);
                }
            }
            else
            {
                Diff(old, had, now, has, schema.Field(name), path, changed, removed);
            }

            path.RemoveAt(path.Count - 1);
        }

        return (changed, removed);
    }

    private static void Diff(JsonNode? old, bool had, JsonNode? now, bool has, PatchField field, List<string> path, FieldSet changed, FieldSet removed)
    {
        var before = had ? Shape(old, field) : NodeShape.Absent;
        var after = has ? Shape(now, field) : NodeShape.Absent;
        if (before != NodeShape.Absent && after != NodeShape.Absent)
        {
            if (before != after || before == NodeShape.Leaf)
            {
                if (!JsonNode.DeepEquals(old, now))
                {
                    changed.Insert(path);
                }

                return;
            }
        }
        else if (after != NodeShape.Absent)
        {
            changed.Insert(path);
        }
        else if (before != NodeShape.Absent)
        {
            removed.Insert(path);
        }

        var shape = after != NodeShape.Absent ? after : before;
        switch (shape)
        {
            case NodeShape.Map:
                var oldMap = before == NodeShape.Map ? (JsonObject)old! : [];
                var newMap = after == NodeShape.Map ? (JsonObject)now! : [];
                foreach (var name in Names(oldMap, newMap))
                {
                    path.Add("f:" + name);
                    Diff(oldMap[name], oldMap.ContainsKey(name), newMap[name], newMap.ContainsKey(name), field.Schema.Field(name), path, changed, removed);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeShape.KeyedList:
                var item = ItemField(field);
                var oldItems = Index(before == NodeShape.KeyedList ? (JsonArray)old! : [], field);
                var newItems = Index(after == NodeShape.KeyedList ? (JsonArray)now! : [], field);
                foreach (var key in oldItems.Keys.Union(newItems.Keys).ToList())
                {
                    path.Add(key);
                    Diff(oldItems.GetValueOrDefault(key), oldItems.ContainsKey(key), newItems.GetValueOrDefault(key), newItems.ContainsKey(key), item, path, changed, removed);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeShape.SetList:
                var oldMembers = (before == NodeShape.SetList ? (JsonArray)old! : []).Select(MemberKey).ToHashSet(StringComparer.Ordinal);
                var newMembers = (after == NodeShape.SetList ? (JsonArray)now! : []).Select(MemberKey).ToHashSet(StringComparer.Ordinal);
                foreach (var member in newMembers.Where(m => !oldMembers.Contains(m)))
                {
                    path.Add(member);
                    changed.Insert(path);
                    path.RemoveAt(path.Count - 1);
                }

                foreach (var member in oldMembers.Where(m => !newMembers.Contains(m)))
                {
                    path.Add(member);
                    removed.Insert(path);
                    path.RemoveAt(path.Count - 1);
                }

                break;
        }
    }

    /// <summary>The keys of both objects: the first's in order, then the second's it lacks.</summary>
    private static IEnumerable<string> Names(JsonObject first, JsonObject second)
    {
        foreach (var (name, _) in first)
        {
            yield return name;
        }

        foreach (var (name, _) in second)
        {
            if (!first.ContainsKey(name))
            {
                yield return name;
            }
        }
    }

    private static Dictionary<string, JsonObject> Index(JsonArray items, PatchField field)
    {
        var index = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var item in items.OfType<JsonObject>())
        {
            index.TryAdd(ItemKey(field, item), item);
        }

        return index;
    }

    /// <summary>An item of a keyed list is an object of the list's item schema, merged field by field.</summary>
    internal static PatchField ItemField(PatchField list) => new(PatchStrategy.None, null, list.Schema);

    private enum NodeShape
    {
        Absent,
        Leaf,
        Map,
        KeyedList,
        SetList,
    }

    private static NodeShape Shape(JsonNode? value, PatchField field) => value switch
    {
        JsonObject when !field.ReplacesMap => NodeShape.Map,
        JsonArray when field.MergesList && field.Keys.Count > 0 => NodeShape.KeyedList,
        JsonArray when field.MergesList => NodeShape.SetList,
        _ => NodeShape.Leaf,
    };
}
