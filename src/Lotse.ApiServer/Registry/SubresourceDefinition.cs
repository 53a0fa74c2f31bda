namespace Lotse.ApiServer.Registry;

/// <summary>
/// A subresource such as <c>status</c>, <c>scale</c> or <c>eviction</c>. Group/Version/Kind name the
/// object the subresource speaks (pods/eviction speaks policy/v1 Eviction; */scale autoscaling/v1 Scale);
/// null means the parent's own kind.
/// </summary>
public sealed record SubresourceDefinition(
    string Name,
    IReadOnlyList<string> Verbs,
    string? Group = null,
    string? Version = null,
    string? Kind = null)
{
    public static SubresourceDefinition Status { get; } = new("status", ["get", "patch", "update"]);

    public static SubresourceDefinition Scale { get; } = new("scale", ["get", "patch", "update"], "autoscaling", "v1", "Scale");
}
