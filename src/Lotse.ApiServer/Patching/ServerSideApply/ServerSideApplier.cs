using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>A field another manager owns with a different value than the apply wants.</summary>
public sealed record FieldConflict(string Manager, string ApiVersion, string Field);

/// <summary>An apply that would take fields others own, without <c>force</c>.</summary>
public sealed class ApplyConflictException(IReadOnlyList<FieldConflict> conflicts) : Exception(Describe(conflicts))
{
    public IReadOnlyList<FieldConflict> Conflicts { get; } = conflicts;

    /// <summary>kube's wording: "Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas".</summary>
    private static string Describe(IReadOnlyList<FieldConflict> conflicts)
    {
        var noun = conflicts.Count == 1 ? "conflict" : "conflicts";
        var byManager = conflicts.GroupBy(c => (c.Manager, c.ApiVersion)).ToList();
        if (conflicts.Count == 1)
        {
            var c = conflicts[0];
            return $"Apply failed with 1 conflict: conflict with \"{c.Manager}\" using {c.ApiVersion}: {c.Field}";
        }

        var parts = byManager.Select(g => $"conflicts with \"{g.Key.Manager}\" using {g.Key.ApiVersion}:\n{string.Join("\n", g.Select(c => "- " + c.Field))}");
        return $"Apply failed with {conflicts.Count} {noun}: {string.Join("\n", parts)}";
    }
}

/// <summary>
/// Server-side apply and field ownership (sigs.k8s.io/structured-merge-diff as kube-apiserver uses
/// it): an apply merges the manager's configuration into the live object, removes fields it applied
/// before and no longer does (unless another manager owns them too), and makes the manager own
/// exactly what it applied; fields another manager owns with a different value conflict, unless
/// forced, which takes them over. Other writes (Update operations) take ownership of the fields
/// they change from everyone else. Ownership is tracked from an object's first apply on.
/// </summary>
public static class ServerSideApplier
{
    public static JsonObject Apply(JsonObject? live, JsonObject applied, PatchSchema schema, string manager, string apiVersion, bool force, string now)
    {
        var entries = live is null ? [] : ManagedFieldsEntry.Read(live);
        var config = (JsonObject)applied.DeepClone();
        (config["metadata"] as JsonObject)?.Remove("managedFields");
        var wanted = FieldSet.Of(config, schema, status: false);
        var leaves = wanted.Leaves();
        var mine = entries.FirstOrDefault(e => e.Same(manager, "Apply", null));
        var others = entries.Where(e => e != mine).ToList();

        var conflicts = new List<(ManagedFieldsEntry Entry, string[] Path)>();
        foreach (var path in leaves)
        {
            if (path[^1] == ".")
            {
                continue; // a keyed item's existence is shared, not contested
            }

            FieldSet.TryFind(live, path, out var current);
            FieldSet.TryFind(config, path, out var desired);
            if (JsonNode.DeepEquals(current, desired))
            {
                continue;
            }

            conflicts.AddRange(others.Where(o => o.Fields.Contains(path)).Select(o => (o, path)));
        }

        if (conflicts.Count > 0 && !force)
        {
            throw new ApplyConflictException([.. conflicts.Select(c => new FieldConflict(c.Entry.Manager, c.Entry.ApiVersion, FieldSet.Print(c.Path)))]);
        }

        foreach (var (entry, path) in conflicts)
        {
            entry.Fields.Remove(path);
        }

        var result = live is null ? config : StrategicMergePatch.Apply((JsonObject)live.DeepClone(), config, schema) as JsonObject ?? config;

        // Fields this manager applied before and no longer does go, unless someone else owns them too.
        foreach (var path in (mine?.Fields.Leaves() ?? []).Where(p => !wanted.Contains(p) && !others.Any(o => o.Fields.Contains(p))).OrderByDescending(p => p.Length))
        {
            FieldSet.RemoveFrom(result, path);
        }

        var updated = entries.Where(e => e != mine).ToList();
        // The time moves only when what the manager owns does (kube's no-op applies leave the object as it was).
        var time = mine is not null && mine.ApiVersion == apiVersion && SameLeaves(mine.Fields, wanted) ? mine.Time : now;
        updated.Add(new ManagedFieldsEntry { Manager = manager, Operation = "Apply", ApiVersion = apiVersion, Time = time, Fields = wanted });
        ManagedFieldsEntry.Write(result, updated);
        return result;
    }

    private static bool SameLeaves(FieldSet a, FieldSet b) =>
        a.Leaves().Select(p => string.Join('\u0001', p)).ToHashSet(StringComparer.Ordinal).SetEquals(b.Leaves().Select(p => string.Join('\u0001', p)));

    /// <summary>
    /// Records an ordinary write in the managed fields of an object that has them: the writer takes
    /// the fields it changed (or added) from everyone, removed fields leave every set.
    /// </summary>
    public static void RecordUpdate(JsonObject updated, JsonObject? old, PatchSchema schema, string manager, string apiVersion, string? subresource, string now)
    {
        var entries = old is null ? [] : ManagedFieldsEntry.Read(old);
        if (entries.Count == 0)
        {
            (updated["metadata"] as JsonObject)?.Remove("managedFields");
            return;
        }

        var status = subresource == "status";
        var before = FieldSet.Of(old!, schema, status);
        var after = FieldSet.Of(updated, schema, status);
        var changed = after.Leaves().Where(p => !FieldSet.TryFind(old, p, out var was) | !FieldSet.TryFind(updated, p, out var value) || !JsonNode.DeepEquals(was, value)).ToList();
        var removed = before.Leaves().Where(p => !after.Contains(p)).ToList();
        foreach (var entry in entries)
        {
            foreach (var path in changed.Concat(removed))
            {
                entry.Fields.Remove(path);
            }
        }

        if (changed.Count > 0)
        {
            var mine = entries.FirstOrDefault(e => e.Same(manager, "Update", subresource));
            if (mine is null)
            {
                mine = new ManagedFieldsEntry { Manager = manager, Operation = "Update", Subresource = subresource, Fields = new FieldSet() };
                entries.Add(mine);
            }

            mine.ApiVersion = apiVersion;
            mine.Time = now;
            foreach (var path in changed)
            {
                mine.Fields.Add(path);
            }
        }

        ManagedFieldsEntry.Write(updated, entries);
    }
}
