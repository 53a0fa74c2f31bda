namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>An apply that would take fields others own, without <c>force</c>.</summary>
public sealed class ApplyConflictException(IReadOnlyList<FieldConflict> conflicts) : Exception(Describe(conflicts))
{
    public IReadOnlyList<FieldConflict> Conflicts { get; } = conflicts;

    /// <summary>
    /// kube's wording: <c>Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas</c>, or
    /// for several, one <c>conflicts with "m":</c> line per manager (in name order) and a <c>- .path</c> line per field.
    /// </summary>
    private static string Describe(IReadOnlyList<FieldConflict> conflicts)
    {
        if (conflicts.Count == 1)
        {
            return $"Apply failed with 1 conflict: conflict with {conflicts[0].Who}: {conflicts[0].Field}";
        }

        var lines = conflicts.GroupBy(c => (c.Manager, c.Operation, c.ApiVersion, c.Subresource))
            .OrderBy(g => g.Key.Manager, StringComparer.Ordinal)
            .SelectMany(g => g.Select(c => "- " + c.Field).Prepend($"conflicts with {g.First().Who}:"));
        return $"Apply failed with {conflicts.Count} conflicts: {string.Join("\n", lines)}";
    }
}
