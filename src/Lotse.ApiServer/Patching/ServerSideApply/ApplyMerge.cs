using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>
/// How an applied configuration merges into the live object (structured-merge-diff's merge, by the kind's
/// schema): granular maps field by field, keyed lists item by item on the key tuple, set lists member by
/// member, and everything else — scalars, atomic lists and maps — replaced by the configuration's value.
/// Items of merged lists keep the live order; items the configuration shares with it follow the
/// configuration's order, and new items go before the next shared one (or last).
/// </summary>
public static class ApplyMerge
{
    public static JsonObject Merge(JsonObject live, JsonObject config, PatchSchema schema) =>
        (JsonObject)MergeValue(live, config, new PatchField(PatchStrategy.None, null, schema))!;

    private static JsonNode? MergeValue(JsonNode? live, JsonNode? config, PatchField field)
    {
        switch (config)
        {
            case JsonObject map when live is JsonObject current && !field.ReplacesMap:
                var merged = (JsonObject)current.DeepClone();
                foreach (var (name, value) in map)
                {
                    merged[name] = merged.TryGetPropertyValue(name, out var existing) ? MergeValue(existing, value, field.Schema.Field(name)) : value?.DeepClone();
                }

                return merged;
            case JsonArray list when live is JsonArray current && field.MergesList:
                return MergeList(current, list, field);
            default:
                return config?.DeepClone();
        }
    }

    private static JsonArray MergeList(JsonArray live, JsonArray config, PatchField field)
    {
        var keyed = field.Keys.Count > 0;
        var item = FieldSet.ItemField(field);
        string? Identity(JsonNode? node) => keyed ? node is JsonObject obj ? FieldSet.ItemKey(field, obj) : null : FieldSet.MemberKey(node);

        var configByKey = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var node in config)
        {
            if (Identity(node) is { } key)
            {
                configByKey.TryAdd(key, node);
            }
        }

        var liveKeys = live.Select(Identity).ToList();
        var liveSet = liveKeys.OfType<string>().ToHashSet(StringComparer.Ordinal);

        // The configuration's items in its order, each merged with the live one of the same identity.
        var ordered = new List<(string Key, JsonNode? Value, bool Shared)>();
        foreach (var (key, value) in configByKey)
        {
            var shared = liveSet.Contains(key);
            var result = shared && keyed ? MergeValue(live[liveKeys.IndexOf(key)], value, item) : value?.DeepClone();
            ordered.Add((key, result, shared));
        }

        var output = new JsonArray();
        var slots = new HashSet<string>(StringComparer.Ordinal);
        var next = 0;
        for (var i = 0; i < live.Count; i++)
        {
            if (liveKeys[i] is not { } key || !configByKey.ContainsKey(key))
            {
                output.Add(live[i]?.DeepClone());
                continue;
            }

            if (!slots.Add(key))
            {
                continue; // a live duplicate of an item the configuration names: merged into the first
            }

            // A shared slot takes the next shared item in the configuration's order, after the new items before it.
            while (!ordered[next].Shared)
            {
                output.Add(ordered[next++].Value);
            }

            output.Add(ordered[next++].Value);
        }

        for (; next < ordered.Count; next++)
        {
            output.Add(ordered[next].Value);
        }

        return output;
    }
}
