namespace Lotse.ApiServer.Patching;

/// <summary>The body formats of a PATCH request, named after the Content-Type that selects them.</summary>
public enum PatchType
{
    /// <summary><c>application/json-patch+json</c>: RFC 6902, see <see cref="JsonPatch"/>.</summary>
    Json,

    /// <summary><c>application/merge-patch+json</c>: RFC 7386, see <see cref="JsonMergePatch"/>.</summary>
    Merge,

    /// <summary><c>application/strategic-merge-patch+json</c>: see <see cref="StrategicMergePatch"/>.</summary>
    StrategicMerge,

    /// <summary><c>application/apply-patch+yaml</c>: server-side apply, served by its own engine.</summary>
    Apply,

    /// <summary><c>application/apply-patch+cbor</c>: server-side apply with a CBOR body (kube 1.32+).</summary>
    ApplyCbor,
}
