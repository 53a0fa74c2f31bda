using System.Text.Json.Nodes;
using static Lotse.ApiServer.Patching.PatchNodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// Kubernetes' strategic merge patch, as kube-apiserver applies it (apimachinery
/// <c>strategicpatch.StrategicMergeMapPatch</c>: parallel lists merged, unmatched nulls ignored). Maps merge
/// recursively and a null member deletes; a list merges where the kind's <see cref="PatchSchema"/> says
/// <c>patchStrategy: merge</c> — maps item by item on the merge key, primitives as an ordered set — and is
/// replaced otherwise. Directives: <c>$patch</c> (<c>replace</c>/<c>delete</c> on a map; <c>replace</c>, or
/// <c>delete</c> on an item, in a merged list), <c>$retainKeys</c>, <c>$setElementOrder/&lt;list&gt;</c> and
/// <c>$deleteFromPrimitiveList/&lt;list&gt;</c>. Merged lists are ordered as kube orders them (see
/// <see cref="ListOrder"/>). No name starting with <c>$</c> reaches the result, and the inputs are never
/// changed.
/// </summary>
/// <remarks>
/// Deliberate differences from kube: <c>$patch: merge</c> on a map is accepted as a plain merge (kube
/// rejects it; kustomize ignores it); a <c>$patch: replace</c> map under a field the object lacks keeps its
/// content (kube drops it); patch errors kube reports as 500 are 400s here (see <see cref="PatchErrorKind"/>).
/// </remarks>
public static partial class StrategicMergePatch
{
    private const string RetainKeysDirective = "$retainKeys";
    private const string SetElementOrderPrefix = "$setElementOrder";
    private const string DeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";

    public static JsonObject Apply(JsonObject original, JsonObject patch, PatchSchema schema)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(patch);
        ArgumentNullException.ThrowIfNull(schema);
        return MergeMap((JsonObject)original.DeepClone(), patch, schema);
    }

    /// <summary>
    /// Merges <paramref name="patch"/> (read only) into <paramref name="target"/> (a private copy we may
    /// change) and returns the result: <paramref name="target"/> itself, or a new map when a <c>$patch</c>
    /// directive replaces or deletes it (a deleted map becomes <c>{}</c>, as in kube).
    /// </summary>
    private static JsonObject MergeMap(JsonObject target, JsonObject patch, PatchSchema schema)
    {
        if (patch.TryGetPropertyValue(PatchDirective, out var directive))
        {
            switch (DirectiveName(directive, patch))
            {
                case "replace":
                    return MaterializeObject(patch);
                case "delete":
                    return [];
            }
        }

        // kube's order: clear what $retainKeys does not keep, merge and order the $setElementOrder lists,
        // then the remaining fields; deletions from primitive lists come last here (kube's map iteration
        // leaves their order against the same list's additions to chance).
        RetainKeys(target, patch);
        var ordered = SetElementOrder(target, patch, schema);
        List<(string Field, JsonNode? Values)>? deletions = null;
        foreach (var (name, value) in patch)
        {
            if (name.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))
            {
                (deletions ??= []).Add((ListName(name, DeleteFromPrimitiveListPrefix, "invalid patch format of primitive list"), value));
            }
            else if (!name.StartsWith('$') && ordered?.Contains(name) != true)
            {
                MergeField(target, name, value, schema.Field(name));
            }
        }

        foreach (var (field, values) in deletions ?? [])
        {
            DeleteFromPrimitiveList(target, field, values);
        }

        return target;
    }

    private static void MergeField(JsonObject target, string name, JsonNode? value, PatchField field)
    {
        if (value is null)
        {
            target.Remove(name);
            return;
        }

        if (!target.TryGetPropertyValue(name, out var existing) || Shape(existing) != Shape(value))
        {
            // Nothing to merge with (absent, or a map meeting a list or a scalar): the patch value lands as it is.
            SetOrRemove(target, name, value);
            return;
        }

        switch (value)
        {
            case JsonObject map when field.ReplacesMap:
                SetOrRemove(target, name, map);
                break;
            case JsonObject map:
                var current = (JsonObject)existing!;
                var merged = MergeMap(current, map, field.Schema);
                if (!ReferenceEquals(merged, current))
                {
                    target[name] = merged;
                }

                break;
            case JsonArray list:
                target[name] = MergeListField(name, (JsonArray)existing!, list, field);
                break;
            default:
                target[name] = value.DeepClone();
                break;
        }
    }

    private static void SetOrRemove(JsonObject target, string name, JsonNode value)
    {
        if (TryMaterialize(value, out var materialized))
        {
            target[name] = materialized;
        }
        else
        {
            target.Remove(name);
        }
    }

    /// <summary>Maps, lists and scalars: kube merges only when both sides have the same one of these.</summary>
    private static int Shape(JsonNode? node) => node switch
    {
        JsonObject => 1,
        JsonArray => 2,
        _ => 0,
    };

    /// <summary>
    /// <c>$retainKeys: [..]</c> clears every field of the object it does not list; the patch may only set
    /// listed fields (kube validates this and so do we). Honoured wherever it appears, as kube does, not
    /// only on fields tagged <c>retainKeys</c>.
    /// </summary>
    private static void RetainKeys(JsonObject target, JsonObject patch)
    {
        if (!patch.TryGetPropertyValue(RetainKeysDirective, out var directive))
        {
            return;
        }

        if (directive is not JsonArray list)
        {
            throw PatchException.BadRequest("invalid patch format of retainKeys");
        }

        var keep = list.Select(k => k is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var (name, value) in patch)
        {
            if (value is null || name is PatchDirective or RetainKeysDirective
                || name.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal)
                || name.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (!keep.Contains(name))
            {
                throw PatchException.BadRequest("invalid patch format of retainKeys");
            }
        }

        foreach (var name in target.Select(member => member.Key).Where(name => !keep.Contains(name)).ToList())
        {
            target.Remove(name);
        }
    }

    /// <summary>The list a <c>$setElementOrder/x</c> or <c>$deleteFromPrimitiveList/x</c> directive names.</summary>
    private static string ListName(string directive, string prefix, string error)
    {
        var slash = directive.IndexOf('/', StringComparison.Ordinal);
        return slash == prefix.Length && directive.StartsWith(prefix, StringComparison.Ordinal)
            ? directive[(slash + 1)..]
            : throw PatchException.BadRequest(error);
    }

    /// <summary>
    /// <c>$deleteFromPrimitiveList/x: [..]</c> removes those values from the primitive list x, whatever x's
    /// strategy; nothing happens when x is absent or not a list. A null deletion list removes x (kube's
    /// reading of the directive as a null field).
    /// </summary>
    private static void DeleteFromPrimitiveList(JsonObject target, string field, JsonNode? values)
    {
        if (values is null)
        {
            target.Remove(field);
            return;
        }

        if (target[field] is not JsonArray list || values is not JsonArray remove || (list.Count == 0 && remove.Count == 0))
        {
            return;
        }

        if (ElementKind(list, remove) == System.Text.Json.JsonValueKind.Object)
        {
            throw PatchException.BadRequest("invalid patch format of primitive list");
        }

        var gone = remove.Select(Identity).ToHashSet(StringComparer.Ordinal);
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (gone.Contains(Identity(list[i])))
            {
                list.RemoveAt(i);
            }
        }
    }
}
