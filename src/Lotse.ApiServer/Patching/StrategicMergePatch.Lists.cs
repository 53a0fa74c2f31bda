using System.Text.Json;
using System.Text.Json.Nodes;
using static Lotse.ApiServer.Patching.PatchNodes;

namespace Lotse.ApiServer.Patching;

public static partial class StrategicMergePatch
{
    private static JsonArray MergeListField(string name, JsonArray original, JsonArray patch, PatchField field) =>
        field.MergesList ? new JsonArray([.. MergeList(name, original, patch, field, out _)]) : MaterializeList(patch);

    /// <summary>
    /// Merges a list tagged <c>patchStrategy: merge</c>. The items come back detached, in kube's order (see
    /// <see cref="ListOrder"/>). <paramref name="serverOrder"/> is what kube's <c>$setElementOrder</c> pass
    /// later orders server-only items by — see <see cref="MergeMaps"/> for why it is not simply the
    /// original list.
    /// </summary>
    private static List<JsonNode?> MergeList(string name, JsonArray original, JsonArray patch, PatchField field, out string[] serverOrder)
    {
        var items = Detach(original);
        if (items.Count == 0 && patch.Count == 0)
        {
            serverOrder = [];
            return items;
        }

        if (ElementKind(items, patch) != JsonValueKind.Object)
        {
            return MergePrimitives(items, patch, out serverOrder);
        }

        if (field.MergeKey is null)
        {
            throw PatchException.Unprocessable($"cannot merge lists without merge key for {name}");
        }

        return MergeMaps(items, patch, field.MergeKey, field.Schema, out serverOrder);
    }

    /// <summary>A merged list of primitives is the set union, ordered as kube orders it.</summary>
    private static List<JsonNode?> MergePrimitives(List<JsonNode?> original, JsonArray patch, out string[] serverOrder)
    {
        serverOrder = [.. original.Select(Identity)];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var union = new List<ListOrder.Item>();
        foreach (var item in original)
        {
            var identity = Identity(item);
            if (seen.Add(identity))
            {
                union.Add(new(identity, item));
            }
        }

        foreach (var item in patch)
        {
            var identity = Identity(item);
            if (seen.Add(identity))
            {
                union.Add(new(identity, item?.DeepClone()));
            }
        }

        return ListOrder.Enforce(union, [.. patch.Select(Identity)], serverOrder);
    }

    /// <summary>
    /// Merges a list of maps on <paramref name="mergeKey"/>: items marked <c>$patch: delete</c> remove every
    /// item with their key, a <c>{"$patch": "replace"}</c> item makes the patch's other items the whole
    /// list, an item whose key the list has merges into that item, and any other item is appended.
    /// </summary>
    /// <remarks>
    /// kube-apiserver deletes and appends inside the live list's backing array, and its later
    /// <c>$setElementOrder</c> pass still looks at that array through the original slice: the survivors
    /// moved down, the first appended items in the slots the deletions freed, stale copies after them.
    /// The order it produces depends on that view (a deleted container plus an added one end up in a
    /// different order than a plain reading of the algorithm gives), so <paramref name="serverOrder"/>
    /// replays exactly those moves on the list of merge keys.
    /// </remarks>
    private static List<JsonNode?> MergeMaps(List<JsonNode?> original, JsonArray patch, string mergeKey, PatchSchema itemSchema, out string[] serverOrder)
    {
        var view = original.Select(item => ItemIdentity(item, mergeKey)).ToArray();
        var live = view.Length;
        var working = original;
        var plain = new List<JsonObject>();
        var replace = false;
        foreach (var item in patch.Cast<JsonObject>())
        {
            if (!item.TryGetPropertyValue(PatchDirective, out var directive))
            {
                plain.Add(item);
                continue;
            }

            switch (DirectiveName(directive, item))
            {
                case "delete":
                    if (!item.TryGetPropertyValue(mergeKey, out var key))
                    {
                        throw NoMergeKey(item, mergeKey, PatchErrorKind.BadRequest);
                    }

                    var gone = Identity(key);
                    for (var i = 0; i < working.Count;)
                    {
                        if (HasKey(working[i], mergeKey, gone))
                        {
                            working.RemoveAt(i);
                            Array.Copy(view, i + 1, view, i, live - i - 1);
                            live--;
                        }
                        else
                        {
                            i++;
                        }
                    }

                    break;
                case "replace":
                    replace = true;
                    break;
                default:
                    throw PatchException.BadRequest("merging lists cannot yet be specified in the patch");
            }
        }

        string[] innerServerOrder;
        string[] patchOrder;
        if (replace)
        {
            if (plain.Find(item => !item.ContainsKey(mergeKey)) is { } keyless)
            {
                throw NoMergeKey(keyless, mergeKey, PatchErrorKind.BadRequest);
            }

            working = [.. plain.Select(MaterializeObject)];
            innerServerOrder = [.. working.Select(item => ItemIdentity(item, mergeKey))];
            patchOrder = [];
        }
        else
        {
            innerServerOrder = view[..live];
            patchOrder = new string[plain.Count];
            for (var p = 0; p < plain.Count; p++)
            {
                var item = plain[p];
                if (!item.TryGetPropertyValue(mergeKey, out var key))
                {
                    throw NoMergeKey(item, mergeKey, PatchErrorKind.BadRequest);
                }

                var identity = patchOrder[p] = Identity(key);
                var index = working.FindIndex(w => HasKey(w, mergeKey, identity));
                if (index >= 0)
                {
                    working[index] = MergeMap((JsonObject)working[index]!, item, itemSchema);
                    continue;
                }

                working.Add(MaterializeObject(item));
                if (live < view.Length)
                {
                    view[live] = identity;
                }

                live++;
            }
        }

        serverOrder = view;
        return ListOrder.Enforce(KeyedItems(working, mergeKey), patchOrder, innerServerOrder);
    }

    private static bool HasKey(JsonNode? item, string mergeKey, string identity) =>
        item is JsonObject map && map.TryGetPropertyValue(mergeKey, out var key) && Identity(key) == identity;

    /// <summary>Every item of a merged list of maps must carry the merge key (kube refuses to order it otherwise).</summary>
    private static List<ListOrder.Item> KeyedItems(List<JsonNode?> items, string mergeKey) =>
        [.. items.Select(item => item is JsonObject map && map.ContainsKey(mergeKey)
            ? new ListOrder.Item(ItemIdentity(item, mergeKey), item)
            : throw NoMergeKey(item, mergeKey, PatchErrorKind.Unprocessable))];

    /// <summary>
    /// Handles every <c>$setElementOrder/x</c> of a map: merges x (if the patch has it) and orders the result
    /// — the patch's order list first, then the patch list, then the server's order. Returns the lists it
    /// took care of, which the caller then leaves alone.
    /// </summary>
    private static HashSet<string>? SetElementOrder(JsonObject target, JsonObject patch, PatchSchema schema)
    {
        HashSet<string>? done = null;
        foreach (var (directive, value) in patch)
        {
            if (!directive.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = ListName(directive, SetElementOrderPrefix, "invalid patch format of setElementOrder list");
            if (value is not JsonArray order)
            {
                throw PatchException.BadRequest("invalid patch format of setElementOrder list");
            }

            var field = schema.Field(name);
            var original = target[name] as JsonArray;
            var inPatch = patch.TryGetPropertyValue(name, out var patchList);
            if (patchList is not (null or JsonArray))
            {
                throw PatchException.BadRequest("invalid patch format of setElementOrder list");
            }

            // Only merged lists have an order to keep (a replaced list is whatever the patch says), and a
            // list the patch deletes with null has none.
            if (!field.MergesList || (inPatch && patchList is null) || (original is null && !inPatch))
            {
                continue;
            }

            if (patchList is JsonArray list)
            {
                CheckOrderMatchesPatch(list, order, field.MergeKey);
            }

            List<JsonNode?> merged;
            string[] serverOrder;
            if (original is not null && patchList is JsonArray both)
            {
                merged = MergeList(name, original, both, field, out serverOrder);
            }
            else if (original is not null)
            {
                serverOrder = [.. original.Select(item => ItemIdentity(item, field.MergeKey))];
                merged = Detach(original);
            }
            else
            {
                serverOrder = [];
                merged = Detach(MaterializeList((JsonArray)patchList!));
            }

            target[name] = new JsonArray([.. ApplyOrder(merged, order, serverOrder, field.MergeKey)]);
            (done ??= []).Add(name);
        }

        return done;
    }

    private static List<JsonNode?> ApplyOrder(List<JsonNode?> merged, JsonArray order, string[] serverOrder, string? mergeKey)
    {
        if (mergeKey is not null && merged.Any(item => item is JsonObject))
        {
            foreach (var entry in order)
            {
                if (entry is not JsonObject map || !map.ContainsKey(mergeKey))
                {
                    throw NoMergeKey(entry, mergeKey, PatchErrorKind.BadRequest);
                }
            }

            return ListOrder.Enforce(KeyedItems(merged, mergeKey), [.. order.Select(entry => ItemIdentity(entry, mergeKey))], serverOrder);
        }

        var items = merged.Select(item => new ListOrder.Item(Identity(item), item)).ToList();
        return ListOrder.Enforce(items, [.. order.Select(Identity)], serverOrder);
    }

    /// <summary>
    /// The patch list must name its items in the order <c>$setElementOrder</c> gives them (deletions and
    /// other directive items aside); kube refuses a patch whose two lists disagree.
    /// </summary>
    private static void CheckOrderMatchesPatch(JsonArray patchList, JsonArray order, string? mergeKey)
    {
        if (order.Count == 0 || patchList.Count == 0)
        {
            return;
        }

        var items = patchList.Where(item => mergeKey is null || !IsDeleteMarker(item)).ToList();
        int p = 0, o = 0;
        while (p < items.Count && o < order.Count)
        {
            if (items[p] is JsonObject marker && marker.ContainsKey(PatchDirective))
            {
                p++;
                continue;
            }

            if (SameItem(items[p], order[o], mergeKey))
            {
                p++;
            }

            o++;
        }

        if (p < items.Count)
        {
            throw PatchException.BadRequest(
                $"The order in patch list:\n{Describe(patchList)}\n doesn't match {SetElementOrderPrefix} list:\n{Describe(order)}\n");
        }
    }

    private static bool SameItem(JsonNode? item, JsonNode? entry, string? mergeKey)
    {
        if (mergeKey is null)
        {
            return Identity(item) == Identity(entry);
        }

        return KeyOf(item) == KeyOf(entry);

        string KeyOf(JsonNode? node) => node is JsonObject map && map.ContainsKey(mergeKey)
            ? ItemIdentity(map, mergeKey)
            : throw NoMergeKey(node, mergeKey, PatchErrorKind.BadRequest);
    }

    private static bool IsDeleteMarker(JsonNode? item) =>
        item is JsonObject map && map[PatchDirective] is JsonValue value && value.TryGetValue<string>(out var name) && name == "delete";

    /// <summary>
    /// The one element kind of the items of both lists (booleans count as one kind); kube merges only
    /// lists whose items all share a kind and never lists of lists.
    /// </summary>
    private static JsonValueKind ElementKind(IEnumerable<JsonNode?> original, IEnumerable<JsonNode?> patch)
    {
        JsonValueKind? kind = null;
        foreach (var item in original.Concat(patch))
        {
            var current = Kind(item);
            if (current == JsonValueKind.Array)
            {
                throw PatchException.Unprocessable("lists of lists are not supported");
            }

            if (kind is { } first && first != current)
            {
                throw PatchException.Unprocessable(
                    $"list element types are not identical: {Describe(new JsonArray([.. original.Select(i => i?.DeepClone())]))}, {Describe(new JsonArray([.. patch.Select(i => i?.DeepClone())]))}");
            }

            kind = current;
        }

        return kind ?? JsonValueKind.Null;
    }

    /// <summary>Takes the items out of a list so they can go into a new one (a node has one parent).</summary>
    private static List<JsonNode?> Detach(JsonArray list)
    {
        var items = list.ToList();
        list.Clear();
        return items;
    }
}
