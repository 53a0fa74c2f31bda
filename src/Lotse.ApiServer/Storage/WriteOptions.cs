using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Storage;

/// <summary>Query parameters every write shares: <c>dryRun=All</c> and <c>fieldManager</c>.</summary>
public sealed record WriteOptions(bool DryRun = false, string? FieldManager = null)
{
    public static WriteOptions Default { get; } = new();

    /// <summary>
    /// Records the write in the object's managed fields (new object, stored object or null on create), called
    /// once the object is what will be stored — pruned, defaulted, its status kept — and before validation,
    /// as kube's field manager sees the decoded and defaulted object. Null for writes that record nothing.
    /// </summary>
    public Action<JsonObject, JsonObject?>? RecordFields { get; init; }
}
