namespace Lotse.ApiServer.Patching;

/// <summary>
/// A patch that cannot be applied. The message is worded as kube-apiserver words it (evanphx/json-patch
/// for JSON patches, apimachinery's strategicpatch/mergepatch for strategic merge patches), so clients
/// and scripts see the text they know; <see cref="Kind"/> says whether it is a 400 or a 422.
/// </summary>
public sealed class PatchException : Exception
{
    public PatchException(string message, PatchErrorKind kind)
        : base(message)
    {
        Kind = kind;
    }

    public PatchException(string message, bool malformed = false)
        : this(message, malformed ? PatchErrorKind.BadRequest : PatchErrorKind.Unprocessable)
    {
    }

    public PatchErrorKind Kind { get; }

    /// <summary>True for a malformed patch document (400), false for a patch that does not apply (422).</summary>
    public bool Malformed => Kind == PatchErrorKind.BadRequest;

    public int StatusCode => Kind == PatchErrorKind.BadRequest ? 400 : 422;

    internal static PatchException BadRequest(string message) => new(message, PatchErrorKind.BadRequest);

    internal static PatchException Unprocessable(string message) => new(message, PatchErrorKind.Unprocessable);
}
