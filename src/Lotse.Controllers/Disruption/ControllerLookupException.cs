namespace Lotse.Controllers.Disruption;

/// <summary>A budget's expected pod count cannot be computed (a pod without a known controller, a bad percentage).</summary>
public sealed class ControllerLookupException(string message) : Exception(message);
