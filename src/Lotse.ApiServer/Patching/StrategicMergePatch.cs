using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// Kubernetes' strategic merge patch: maps merge, null deletes, lists merge by their merge key (or as
/// primitive sets) where the kind's patch metadata says so and are replaced otherwise, with the
/// directives <c>$patch</c> (replace, delete, merge), <c>$setElementOrder/&lt;list&gt;</c>,
/// <c>$retainKeys</c> and <c>$deleteFromPrimitiveList/&lt;list&gt;</c>. Inputs are never changed.
/// </summary>
public static class StrategicMergePatch
{
    private const string PatchDirective = "$patch";
    private const string RetainKeys = "$retainKeys";
    private const string SetElementOrder = "$setElementOrder/";
    private const string DeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

    public static JsonObject Apply(JsonObject original, JsonObject patch, PatchSchema schema) =>
        MergeMap((JsonObject)original.DeepClone(), patch, schema, string.Empty) ?? [];

    private static JsonObject? MergeMap(JsonObject target, JsonObject patch, PatchSchema schema, string path)
    {
        switch (patch[PatchDirective]?.ToString())
        {
            case "delete":
                return null;
            case "replace":
                return (JsonObject)Clean(patch);
            case null or "merge":
                break;
            default:
                throw new PatchException($"unknown patch type: {patch[PatchDirective]}", malformed: true);
        }

        foreach (var (key, value) in patch)
        {
            if (key == PatchDirective || key == RetainKeys || key.StartsWith(SetElementOrder, StringComparison.Ordinal))
            {
                continue;
            }

            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
            {
                var field = key[DeleteFromPrimitiveList.Length..];
                if (target[field] is JsonArray list && value is JsonArray remove)
                {
                    foreach (var item in remove)
                    {
                        foreach (var match in list.Where(i => JsonNode.DeepEquals(i, item)).ToList())
                        {
                            list.Remove(match);
                        }
                    }
                }

                continue;
            }

            var childPath = path.Length == 0 ? key : $"{path}.{key}";
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject childPatch)
            {
                var existing = target[key] as JsonObject;
                var merged = MergeMap(existing ?? [], childPatch, schema, childPath);
                if (merged is null)
                {
                    target.Remove(key);
                }
                else if (!ReferenceEquals(merged, existing))
                {
                    target[key] = merged;
                }
            }
            else if (value is JsonArray listPatch)
            {
                target[key] = MergeList(target[key] as JsonArray, listPatch, schema.ListAt(childPath), schema, childPath, patch[SetElementOrder + key] as JsonArray);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }

        foreach (var (key, value) in patch)
        {
            // An order directive for a list the patch did not otherwise touch still reorders it.
            if (key.StartsWith(SetElementOrder, StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key[SetElementOrder.Length..];
                var path2 = path.Length == 0 ? field : $"{path}.{field}";
                if (!patch.ContainsKey(field) && target[field] is JsonArray existing && schema.ListAt(path2) is { } strategy)
                {
                    target[field] = Reorder(existing, order, strategy.MergeKey);
                }
            }
        }

        if (patch[RetainKeys] is JsonArray retain)
        {
            var keep = retain.Select(k => k?.ToString()).ToHashSet();
            foreach (var key in target.Select(kv => kv.Key).ToList())
            {
                if (!keep.Contains(key))
                {
                    target.Remove(key);
                }
            }
        }

        return target;
    }

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, ListStrategy? strategy, PatchSchema schema, string path, JsonArray? order)
    {
        if (strategy is null)
        {
            if (patch.Count == 1 && patch[0] is JsonObject only && only[PatchDirective]?.ToString() == "replace")
            {
                return [];
            }

            return (JsonArray)Clean(patch);
        }

        var result = target is null ? new JsonArray() : (JsonArray)target.DeepClone();
        if (patch.Any(p => p is JsonObject o && o[PatchDirective]?.ToString() == "replace"))
        {
            return new JsonArray([.. patch.Where(p => !(p is JsonObject o && o[PatchDirective]?.ToString() == "replace")).Select(p => p is JsonObject o ? Clean(o) : p?.DeepClone())]);
        }

        if (strategy.MergeKey is null)
        {
            foreach (var item in patch)
            {
                if (!result.Any(existing => JsonNode.DeepEquals(existing, item)))
                {
                    result.Add(item?.DeepClone());
                }
            }

            return order is null ? result : Reorder(result, order, null);
        }

        foreach (var item in patch.OfType<JsonObject>())
        {
            var key = item[strategy.MergeKey];
            var index = IndexOf(result, strategy.MergeKey, key);
            if (item[PatchDirective]?.ToString() == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                if (MergeMap((JsonObject)result[index]!, item, schema, path) is null)
                {
                    result.RemoveAt(index);
                }
            }
            else
            {
                result.Add(Clean(item));
            }
        }

        return order is null ? result : Reorder(result, order, strategy.MergeKey);
    }

    /// <summary>Orders a merged list as <c>$setElementOrder</c> says; items it does not name keep their relative order at the end.</summary>
    private static JsonArray Reorder(JsonArray list, JsonArray order, string? mergeKey)
    {
        var items = list.Select(i => i?.DeepClone()).ToList();
        var ordered = new List<JsonNode?>();
        foreach (var wanted in order)
        {
            var match = items.FindIndex(i => mergeKey is null ? JsonNode.DeepEquals(i, wanted) : JsonNode.DeepEquals(i?[mergeKey], wanted?[mergeKey]));
            if (match >= 0)
            {
                ordered.Add(items[match]);
                items.RemoveAt(match);
            }
        }

        ordered.AddRange(items);
        return new JsonArray([.. ordered]);
    }

    private static int IndexOf(JsonArray list, string mergeKey, JsonNode? key)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonObject o && JsonNode.DeepEquals(o[mergeKey], key))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A patch value as it lands in the object: directives removed.</summary>
    private static JsonNode Clean(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(kv => !kv.Key.StartsWith('$')).Select(kv => KeyValuePair.Create(kv.Key, kv.Value is null ? null : Clean(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(i => i is null ? null : Clean(i))]),
        _ => node.DeepClone(),
    };
}
