using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Storage;

/// <summary>What a request addresses: a resource, a namespace (or none), an object name (or none) and a subresource (or none).</summary>
public sealed record RequestScope(ResourceDefinition Resource, string? Namespace, string? Name, string? Subresource = null)
{
    public string Key => Resource.Key(Namespace, Name!);
}
