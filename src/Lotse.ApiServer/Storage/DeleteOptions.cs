namespace Lotse.ApiServer.Storage;

/// <summary>A <c>meta/v1 DeleteOptions</c> body merged with the query parameters.</summary>
public sealed record DeleteOptions
{
    public long? GracePeriodSeconds { get; init; }

    public string? PreconditionUid { get; init; }

    public string? PreconditionResourceVersion { get; init; }

    /// <summary>Orphan, Background or Foreground; null = the resource's default (Background).</summary>
    public string? PropagationPolicy { get; init; }

    public bool DryRun { get; init; }
}
