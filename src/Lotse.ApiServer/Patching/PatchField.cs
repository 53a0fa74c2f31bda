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
}
