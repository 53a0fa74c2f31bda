using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// The order kube-apiserver gives a merged list (strategicpatch's <c>normalizeElementOrder</c>, see the
/// design note "preserve order in strategic merge patch"): items the patch names come in the patch's
/// order, items only the server has keep the server's order, and the two runs are interleaved by the
/// server order — a server-only item goes first only when both it and the next patch item are in the
/// server list and it stands earlier there. A patch item the server never had therefore lands before
/// the remaining server-only items: without <c>$setElementOrder</c>, a new container or finalizer is
/// prepended, exactly as kube does.
/// </summary>
internal static class ListOrder
{
    public readonly record struct Item(string Identity, JsonNode? Node);

    /// <summary>
    /// Orders <paramref name="items"/>: those whose identity is in <paramref name="patchOrder"/> by that
    /// order, the rest by <paramref name="serverOrder"/>, interleaved as described above.
    /// </summary>
    public static List<JsonNode?> Enforce(List<Item> items, IReadOnlyList<string> patchOrder, IReadOnlyList<string> serverOrder)
    {
        var patchIndex = FirstIndexes(patchOrder);
        var serverIndex = FirstIndexes(serverOrder);
        var fromPatch = new List<Item>();
        var serverOnly = new List<Item>();
        foreach (var item in items)
        {
            (patchIndex.ContainsKey(item.Identity) ? fromPatch : serverOnly).Add(item);
        }

        SortStable(fromPatch, patchIndex);
        SortStable(serverOnly, serverIndex);
        return Interleave(serverOnly, fromPatch, serverIndex);
    }

    private static Dictionary<string, int> FirstIndexes(IReadOnlyList<string> order)
    {
        var index = new Dictionary<string, int>(order.Count, StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++)
        {
            index.TryAdd(order[i], i);
        }

        return index;
    }

    /// <summary>
    /// Insertion sort with kube's comparison, which calls an item that is missing from the order "less"
    /// than anything. For the lists we sort every item is in its order (then this is just a stable sort);
    /// the odd comparison only shows with an empty <c>$setElementOrder</c>, where we match Go's
    /// <c>sort.SliceStable</c> exactly up to its 20-item insertion-sort block.
    /// </summary>
    private static void SortStable(List<Item> items, Dictionary<string, int> order)
    {
        for (var i = 1; i < items.Count; i++)
        {
            for (var j = i; j > 0 && Less(items[j], items[j - 1], order); j--)
            {
                (items[j], items[j - 1]) = (items[j - 1], items[j]);
            }
        }
    }

    private static bool Less(Item a, Item b, Dictionary<string, int> order) =>
        !order.TryGetValue(a.Identity, out var ia) || !order.TryGetValue(b.Identity, out var ib) || ia < ib;

    private static List<JsonNode?> Interleave(List<Item> serverOnly, List<Item> fromPatch, Dictionary<string, int> serverIndex)
    {
        var result = new List<JsonNode?>(serverOnly.Count + fromPatch.Count);
        int i = 0, j = 0;
        while (i < serverOnly.Count && j < fromPatch.Count)
        {
            var serverFirst = serverIndex.TryGetValue(serverOnly[i].Identity, out var si)
                && serverIndex.TryGetValue(fromPatch[j].Identity, out var pi)
                && si < pi;
            result.Add(serverFirst ? serverOnly[i++].Node : fromPatch[j++].Node);
        }

        result.AddRange(serverOnly.Skip(i).Select(item => item.Node));
        result.AddRange(fromPatch.Skip(j).Select(item => item.Node));
        return result;
    }
}
