using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>
/// Server-side apply and field ownership (sigs.k8s.io/structured-merge-diff as kube-apiserver uses it).
/// An apply merges the manager's configuration into the live object, removes fields it applied before and
/// no longer does (unless another manager owns them), and makes the manager own exactly what it applied;
/// fields another manager owns and the apply changes conflict, unless forced, which takes them over.
/// Every other write (an Update: create, update, patch) takes the fields it changes from everyone without
/// conflict. Update entries beyond ten are merged, oldest first, into <c>ancient-changes</c>.
/// </summary>
public static partial class ServerSideApplier
{
    /// <summary>kube's DefaultMaxUpdateManagers.</summary>
    public const int MaxUpdateManagers = 10;

    /// <summary>Who owns the fields of an object that had no managed fields when it was first applied to.</summary>
    public const string BeforeFirstApply = "before-first-apply";

    public const string AncientChanges = "ancient-changes";

    public static JsonObject Apply(JsonObject? live, JsonObject applied, PatchSchema schema, string manager, string apiVersion, bool force, string now, FieldScope scope = FieldScope.Main, string? subresource = null)
    {
        var entries = live is null ? [] : ManagedFieldsEntry.Read(live);
        if (live is not null && entries.Count == 0 && FieldSet.Of(live, schema, scope) is { IsEmpty: false } existing)
        {
            entries.Add(new ManagedFieldsEntry { Manager = BeforeFirstApply, Operation = "Update", ApiVersion = ObjectApiVersion(live, apiVersion), Time = now, Fields = existing });
        }

        var config = (JsonObject)applied.DeepClone();
        (config["metadata"] as JsonObject)?.Remove("managedFields");
        var wanted = FieldSet.Of(config, schema, scope);
        var mine = entries.FirstOrDefault(e => e.Same(manager, "Apply", subresource, apiVersion));
        var others = entries.Where(e => e != mine).ToList();

        var result = live is null ? config : ApplyMerge.Merge(live, config, schema);

        // Fields this manager applied before and no longer does go, unless someone else owns them (or something
        // below them), outermost first; the key fields of an item that stays stay with it.
        foreach (var path in (mine?.Fields.Members() ?? []).Where(p => !wanted.HasAtOrUnder(p)).OrderBy(p => p.Length))
        {
            if (!others.Any(o => o.Fields.HasAtOrUnder(path)) && !IsKeyField(path))
            {
                FieldSet.RemoveFrom(result, path);
            }
        }

        var (changed, removed) = FieldSet.Compare(live, result, schema, scope);
        var changedPaths = changed.Members();
        var conflicts = others.SelectMany(o => changedPaths.Where(o.Fields.Has).Select(p => (Entry: o, Path: p))).ToList();
        if (conflicts.Count > 0 && !force && manager == KubectlManager && live is not null
            && AllowedByLastApplied(live, schema, scope) is { } allowed)
        {
            // kube's last-applied manager: kubectl's first server-side apply after client-side applies takes
            // over, without conflicts, what the last-applied annotation says and nobody changed since.
            var refused = conflicts.Where(c => !allowed.Has(c.Path)).ToList();
            force = refused.Count == 0;
            conflicts = force ? conflicts : refused;
        }

        if (conflicts.Count > 0 && !force)
        {
            throw new ApplyConflictException([.. conflicts.Select(c => new FieldConflict(c.Entry.Manager, c.Entry.Operation, c.Entry.ApiVersion, c.Entry.Subresource, FieldSet.Print(c.Path)))]);
        }

        foreach (var (entry, path) in conflicts)
        {
            entry.Fields.Delete(path);
        }

        foreach (var other in others)
        {
            other.Fields.DeleteAll(removed);
        }

        // The time moves only when what the manager owns does (kube's no-op applies leave the object as it was).
        var time = mine is not null && mine.ApiVersion == apiVersion && mine.Fields.SetEquals(wanted) ? mine.Time : now;
        others.Add(new ManagedFieldsEntry { Manager = manager, Operation = "Apply", ApiVersion = apiVersion, Time = time, Subresource = subresource, Fields = wanted });
        ManagedFieldsEntry.Write(result, CapUpdateManagers(others));
        if (manager == KubectlManager)
        {
            SyncLastApplied(result, config);
        }

        return result;
    }

    /// <summary>kubectl's default manager for <c>apply --server-side</c>, which kube lets take over from client-side apply.</summary>
    public const string KubectlManager = "kubectl";

    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>The fields of the last-applied annotation whose live values are still what it says (null without one).</summary>
    private static FieldSet? AllowedByLastApplied(JsonObject live, PatchSchema schema, FieldScope scope)
    {
        if (live["metadata"]?["annotations"]?[LastAppliedAnnotation] is not JsonValue text || !text.TryGetValue<string>(out var json) || json.Length == 0)
        {
            return null;
        }

        JsonObject lastApplied;
        try
        {
            if (JsonNode.Parse(json) is not JsonObject parsed)
            {
                return null;
            }

            lastApplied = parsed;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        var allowed = FieldSet.Of(lastApplied, schema, scope);
        var (modified, _) = FieldSet.Compare(lastApplied, live, schema, scope);
        allowed.DeleteAll(modified);
        return allowed;
    }

    /// <summary>
    /// kube's last-applied updater: when kubectl applies server-side an object that has the client-side
    /// annotation, the annotation is rewritten to the configuration just applied, so a later client-side
    /// apply does not undo it.
    /// </summary>
    private static void SyncLastApplied(JsonObject result, JsonObject config)
    {
        if (result["metadata"]?["annotations"] is not JsonObject annotations || !annotations.ContainsKey(LastAppliedAnnotation))
        {
            return;
        }

        var applied = (JsonObject)config.DeepClone();
        if (applied["metadata"]?["annotations"] is JsonObject own)
        {
            own.Remove(LastAppliedAnnotation);
            if (own.Count == 0)
            {
                ((JsonObject)applied["metadata"]!).Remove("annotations");
            }
        }

        annotations[LastAppliedAnnotation] = Sorted(applied)!.ToJsonString(JsonDefaults.Options) + "\n";
    }

    /// <summary>Keys in order, as Go encodes a map.</summary>
    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Sorted)]),
        _ => node?.DeepClone(),
    };

    private static bool IsKeyField(string[] path) =>
        path.Length >= 2 && path[^2].StartsWith("k:", StringComparison.Ordinal) && path[^1].StartsWith("f:", StringComparison.Ordinal)
        && JsonNode.Parse(path[^2][2..]) is JsonObject key && key.ContainsKey(path[^1][2..]);

    /// <summary>Which fields a write through this resource and subresource owns.</summary>
    public static FieldScope ScopeOf(Registry.ResourceDefinition resource, string? subresource) =>
        !resource.HasSubresource("status") ? FieldScope.All : subresource == "status" ? FieldScope.Status : FieldScope.Main;

    private static string ObjectApiVersion(JsonObject obj, string fallback) =>
        obj["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var version) && version.Length > 0 ? version : fallback;

    /// <summary>
    /// Records an ordinary write (kube's Update operation) in the managed fields: the writer takes the
    /// fields it added or changed from everyone, removed fields leave every set. <paramref name="old"/> null
    /// is a create, compared against <paramref name="empty"/> (the kind's empty object). An existing object
    /// that has no managed fields stays untracked, as in kube. Managed fields the write itself carries replace
    /// the stored ones (a client may edit them); a list of one empty entry clears them.
    /// </summary>
    public static void RecordUpdate(JsonObject updated, JsonObject? old, PatchSchema schema, string manager, string apiVersion, string? subresource, string now, FieldScope scope = FieldScope.Main, JsonObject? empty = null)
    {
        var metadata = updated["metadata"] as JsonObject;
        var sent = subresource is null ? ManagedFieldsEntry.Parse(metadata?["managedFields"] as JsonArray) : null;
        if (sent is { Count: > 0 } && sent.All(e => e.Manager.Length == 0 && e.Fields.IsEmpty && e.Time is null && e.ApiVersion.Length == 0))
        {
            metadata!.Remove("managedFields");
            return;
        }

        var entries = sent is { Count: > 0 } ? sent : old is null ? [] : ManagedFieldsEntry.Read(old);
        if (old is not null && entries.Count == 0)
        {
            metadata?.Remove("managedFields");
            return;
        }

        var (changed, removed) = FieldSet.Compare(old ?? empty, updated, schema, scope);
        var mine = entries.FirstOrDefault(e => e.Same(manager, "Update", subresource, apiVersion));
        foreach (var entry in entries)
        {
            if (entry != mine)
            {
                entry.Fields.DeleteAll(changed);
            }

            entry.Fields.DeleteAll(removed);
        }

        if (!changed.IsEmpty)
        {
            if (mine is null)
            {
                mine = new ManagedFieldsEntry { Manager = manager, Operation = "Update", Subresource = subresource, ApiVersion = apiVersion, Fields = new FieldSet() };
                entries.Add(mine);
            }

            mine.Time = now;
            mine.Fields.InsertAll(changed);
        }

        ManagedFieldsEntry.Write(updated, CapUpdateManagers(entries));
    }

    /// <summary>
    /// kube's cap on Update entries: past <see cref="MaxUpdateManagers"/>, the oldest are merged per API version
    /// into an <c>ancient-changes</c> entry that takes the time of the newest change merged into it.
    /// </summary>
    private static List<ManagedFieldsEntry> CapUpdateManagers(List<ManagedFieldsEntry> entries)
    {
        var updaters = entries.Where(e => !e.IsApply && !e.Fields.IsEmpty)
            .OrderBy(e => e.Time ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(e => e.Manager, StringComparer.Ordinal)
            .ToList();
        var count = updaters.Count;
        if (count <= MaxUpdateManagers)
        {
            return entries;
        }

        var firstOfVersion = new Dictionary<string, ManagedFieldsEntry>(StringComparer.Ordinal);
        var buckets = new Dictionary<string, ManagedFieldsEntry>(StringComparer.Ordinal);
        for (var i = 0; i < updaters.Count && count > MaxUpdateManagers; i++)
        {
            var entry = updaters[i];
            if (!firstOfVersion.TryGetValue(entry.ApiVersion, out var first))
            {
                firstOfVersion[entry.ApiVersion] = entry;
                continue;
            }

            if (!buckets.TryGetValue(entry.ApiVersion, out var bucket))
            {
                bucket = entries.FirstOrDefault(e => e.Same(AncientChanges, "Update", null, entry.ApiVersion) && e != first);
                if (bucket is null)
                {
                    bucket = new ManagedFieldsEntry { Manager = AncientChanges, Operation = "Update", ApiVersion = entry.ApiVersion, Fields = first.Fields.Clone(), Time = first.Time };
                    entries.Remove(first);
                    entries.Add(bucket);
                }

                buckets[entry.ApiVersion] = bucket;
            }

            bucket.Fields.InsertAll(entry.Fields);
            bucket.Time = entry.Time;
            entries.Remove(entry);
            count--;
        }

        return entries;
    }
}
