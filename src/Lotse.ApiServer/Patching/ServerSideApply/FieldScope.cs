namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>
/// Which top-level fields a write owns (kube's reset fields): a kind with a status subresource owns its
/// status only through <c>/status</c>, and spec and metadata only through the main resource.
/// </summary>
public enum FieldScope
{
    /// <summary>Everything (a kind without a status subresource).</summary>
    All,

    /// <summary>Everything but <c>status</c>.</summary>
    Main,

    /// <summary><c>status</c> only.</summary>
    Status,
}
