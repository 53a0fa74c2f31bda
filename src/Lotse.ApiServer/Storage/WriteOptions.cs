namespace Lotse.ApiServer.Storage;

/// <summary>Query parameters every write shares: <c>dryRun=All</c> and <c>fieldManager</c>.</summary>
public sealed record WriteOptions(bool DryRun = false, string? FieldManager = null)
{
    public static WriteOptions Default { get; } = new();
}
