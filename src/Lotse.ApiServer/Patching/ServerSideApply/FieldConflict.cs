namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>A field another manager owns and an apply would change.</summary>
public sealed record FieldConflict(string Manager, string Operation, string ApiVersion, string? Subresource, string Field)
{
    /// <summary>
    /// The manager as kube names it in conflicts: <c>"m"</c> for an applier, <c>"m" using apps/v1</c> for an
    /// updater, with <c> with subresource "scale"</c> after the name for a subresource's writer.
    /// </summary>
    public string Who
    {
        get
        {
            var who = $"\"{Manager}\"";
            if (Subresource is { Length: > 0 } subresource)
            {
                who += $" with subresource \"{subresource}\"";
            }

            return Operation == "Update" ? $"{who} using {ApiVersion}" : who;
        }
    }
}
