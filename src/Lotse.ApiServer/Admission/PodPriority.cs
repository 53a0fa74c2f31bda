using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Admission;

/// <summary>
/// Kubernetes' Priority admission for new pods: <c>spec.priorityClassName</c> names a PriorityClass
/// whose value becomes <c>spec.priority</c> (and whose preemptionPolicy the pod's, unless it chose
/// one); without a name the cluster's globalDefault class applies, else priority 0. An unknown
/// class, or a priority in the spec that differs from the class's, is refused (403).
/// </summary>
/// <param name="classes">The stored PriorityClasses (from the watch cache).</param>
public sealed class PodPriority(Func<IEnumerable<JsonObject>> classes) : IObjectHooks
{
    /// <summary>The classes every cluster has (created at bootstrap).</summary>
    public static readonly (string Name, int Value, string Description)[] SystemClasses =
    [
        ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ];

    public Task<Func<Task>?> BeforeCreateAsync(string key, JsonObject obj, bool dryRun, CancellationToken cancellationToken)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            return Task.FromResult<Func<Task>?>(null);
        }

        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;
        var className = spec["priorityClassName"]?.GetValue<string>();
        JsonObject? chosen;
        if (string.IsNullOrEmpty(className))
        {
            chosen = classes().FirstOrDefault(c => c["globalDefault"]?.GetValue<bool>() == true);
            if (chosen is not null)
            {
                spec["priorityClassName"] = chosen["metadata"]?["name"]?.DeepClone();
            }
        }
        else
        {
            chosen = classes().FirstOrDefault(c => c["metadata"]?["name"]?.GetValue<string>() == className)
                ?? throw Forbidden(name, $"no PriorityClass with name {className} was found");
        }

        var priority = chosen?["value"]?.GetValue<long>() ?? 0;
        if (spec["priority"] is JsonValue given && given.GetValue<long>() != priority)
        {
            throw Forbidden(name, $"the integer value of priority ({given.GetValue<long>()}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name");
        }

        spec["priority"] = priority;
        if (spec["preemptionPolicy"] is null)
        {
            spec["preemptionPolicy"] = chosen?["preemptionPolicy"]?.DeepClone() ?? "PreemptLowerPriority";
        }

        return Task.FromResult<Func<Task>?>(null);
    }

    private static StatusException Forbidden(string pod, string message) => StatusException.Forbidden($"pods \"{pod}\" is forbidden: {message}");

    public Task<Func<Task>?> BeforeUpdateAsync(string key, JsonObject obj, JsonObject old, bool dryRun, CancellationToken cancellationToken) =>
        Task.FromResult<Func<Task>?>(null);

    public Task AfterUpdateAsync(string key, JsonObject obj, JsonObject old, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AfterDeleteAsync(string key, JsonObject obj, CancellationToken cancellationToken) => Task.CompletedTask;
}
