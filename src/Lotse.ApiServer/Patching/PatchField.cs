using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// The patch metadata of one field: its strategy, the merge key of a merged list of maps, and the schema
/// of its value (for a list, of its items).
/// </summary>
public sealed record PatchField(PatchStrategy Strategy, string? MergeKey, PatchSchema Schema)
{
    /// <summary>An untagged field: maps merge, lists are replaced, nothing below is tagged.</summary>
    public static PatchField Untagged { get; } = new(PatchStrategy.None, null, PatchSchema.Empty);

    public bool MergesList => Strategy.HasFlag(PatchStrategy.Merge);

    public bool ReplacesMap => Strategy.HasFlag(PatchStrategy.Replace);

    /// <summary>
    /// The key fields of a keyed list as server-side apply identifies its items (<c>x-kubernetes-list-map-keys</c>);
    /// when not given, the merge key alone.
    /// </summary>
    public IReadOnlyList<string>? ListMapKeys { get; init; }

    /// <summary>The <c>default</c> of key fields an item may leave out (a custom resource's schema says them).</summary>
    public IReadOnlyDictionary<string, JsonNode?>? KeyDefaults { get; init; }

    /// <summary>The fields that identify an item of this keyed list (empty when the list is not keyed).</summary>
    public IReadOnlyList<string> Keys => ListMapKeys ?? (MergeKey is { } key ? [key] : []);
}
