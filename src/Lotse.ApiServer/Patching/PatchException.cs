namespace Lotse.ApiServer.Patching;

/// <summary>A patch that is malformed (400) or that does not apply to the object (422).</summary>
public sealed class PatchException(string message, bool malformed = false) : Exception(message)
{
    public bool Malformed { get; } = malformed;
}
