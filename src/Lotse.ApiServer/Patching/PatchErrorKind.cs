namespace Lotse.ApiServer.Patching;

/// <summary>Which HTTP status a <see cref="PatchException"/> becomes.</summary>
public enum PatchErrorKind
{
    /// <summary>
    /// 422 Unprocessable Entity: a well-formed patch that does not apply to this object — a failed JSON
    /// patch <c>test</c>, a pointer into a missing member or index, list items whose types clash with the
    /// object's, a merge list item without its merge key in the stored object. kube-apiserver answers every
    /// json-patch apply error with 422 too.
    /// </summary>
    Unprocessable,

    /// <summary>
    /// 400 Bad Request: the patch document itself is malformed — a JSON patch that is not an array of
    /// operation objects, an unknown <c>op</c>, a missing <c>path</c>/<c>from</c>/<c>value</c>, a bad JSON
    /// pointer, or a strategic merge patch with a malformed directive (unknown <c>$patch</c> value,
    /// <c>$retainKeys</c> that does not cover the patch, an order list that contradicts its patch list, a
    /// merge list item without its merge key).
    /// </summary>
    BadRequest,
}
