using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Registry;

/// <summary>
/// Side effects a kind needs around its writes, beyond the strategy's pure rules — for example
/// services allocating cluster IPs and node ports. Allocations happen before the object is written
/// and are undone (the returned action) when the write fails; releases happen after it succeeded.
/// </summary>
public interface IObjectHooks
{
    /// <returns>An action that undoes what was allocated, or null.</returns>
    Task<Func<Task>?> BeforeCreateAsync(string key, JsonObject obj, bool dryRun, CancellationToken cancellationToken);

    /// <returns>An action that undoes what was allocated, or null.</returns>
    Task<Func<Task>?> BeforeUpdateAsync(string key, JsonObject obj, JsonObject old, bool dryRun, CancellationToken cancellationToken);

    /// <summary>After a successful update: release what <paramref name="old"/> held and <paramref name="obj"/> no longer does.</summary>
    Task AfterUpdateAsync(string key, JsonObject obj, JsonObject old, CancellationToken cancellationToken);

    /// <summary>After the object is gone for good.</summary>
    Task AfterDeleteAsync(string key, JsonObject obj, CancellationToken cancellationToken);
}
