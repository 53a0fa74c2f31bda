using Lotse.ApiServer.Tables;

namespace Lotse.ApiServer.Registry;

/// <summary>
/// One served resource of one group-version: what discovery advertises and what the generic REST
/// handlers need (kubernetes' <c>APIResource</c> plus the registry's strategy and printer).
/// </summary>
public sealed record ResourceDefinition
{
    /// <summary>API group; empty for the core ("legacy") group.</summary>
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Kind { get; init; }

    /// <summary>The URL segment, lower-case plural ("pods").</summary>
    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<string> Verbs { get; init; } = StandardVerbs;

    public IReadOnlyList<SubresourceDefinition> Subresources { get; init; } = [];

    /// <summary>
    /// Field selector labels this kind supports besides <c>metadata.name</c> and <c>metadata.namespace</c>
    /// (kubernetes' per-kind <c>GetAttrs</c> / field label conversion functions). Each value is the
    /// JSON path read from the object, dot-separated.
    /// </summary>
    public IReadOnlyList<string> SelectableFields { get; init; } = [];

    /// <summary>Defaulting, validation and update rules for this kind.</summary>
    public ResourceStrategy Strategy { get; init; } = ResourceStrategy.Default;

    /// <summary>Side effects around writes (allocations); null for most kinds.</summary>
    public IObjectHooks? Hooks { get; init; }

    /// <summary>Renders <c>kubectl get</c> tables; null = Kubernetes' default (Name, Created At).</summary>
    public ITableConvertor? Table { get; init; }

    /// <summary>
    /// The resource whose storage this one shares (for example autoscaling/v1 HPAs are autoscaling/v2
    /// HPAs in storage); null when this definition is itself the storage version.
    /// </summary>
    public string? StorageResource { get; init; }

    /// <summary>False for virtual resources answered without storage (reviews, token requests).</summary>
    public bool Stored { get; init; } = true;

    /// <summary>
    /// For a version that shares its key space with other versions of the kind (a CRD's versions,
    /// autoscaling/v1 beside v2): how its objects are shown and written. Null: stored as served.
    /// </summary>
    public Conversion.VersionConversion? Conversion { get; init; }

    /// <summary>An object as this version serves it (see <see cref="Conversion"/>).</summary>
    public WatchCache.CachedObject Present(WatchCache.CachedObject obj) => Conversion?.Present(obj) ?? obj;

    /// <summary>The OpenAPI v3 schema of a custom kind (from its definition); built-in kinds take theirs from the typed models.</summary>
    public System.Text.Json.Nodes.JsonObject? Schema { get; init; }

    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"pods" for core resources, "deployments.apps" otherwise — how error messages name it.</summary>
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>The key prefix of every object of this resource: <c>/registry/{group-resource}/</c>.</summary>
    public string KeyPrefix => $"/registry/{StorageResource ?? GroupResource}/";

    /// <summary>The storage key of one object.</summary>
    public string Key(string? @namespace, string name) =>
        Namespaced ? $"{KeyPrefix}{@namespace}/{name}" : $"{KeyPrefix}{name}";

    /// <summary>The key prefix of a namespace's objects (or of all, for null).</summary>
    public string NamespacePrefix(string? @namespace) =>
        Namespaced && !string.IsNullOrEmpty(@namespace) ? $"{KeyPrefix}{@namespace}/" : KeyPrefix;

    public bool HasSubresource(string name) => Subresources.Any(s => s.Name == name);

    public static readonly IReadOnlyList<string> StandardVerbs =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
}
