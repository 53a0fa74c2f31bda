using k8s.Models;

namespace Lotse.Controllers.Runtime;

/// <summary>How workload controllers read pods (kubernetes' pkg/api/v1/pod and controller_utils).</summary>
public static class PodStates
{
    /// <summary>Counts towards replicas: not finished and not being deleted.</summary>
    public static bool IsActive(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase is not ("Succeeded" or "Failed");

    public static bool IsReady(V1Pod pod) => ReadyCondition(pod)?.Status == "True";

    /// <summary>Ready for at least <paramref name="minReadySeconds"/>.</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTimeOffset now)
    {
        var ready = ReadyCondition(pod);
        if (ready?.Status != "True")
        {
            return false;
        }

        return minReadySeconds <= 0 || (ready.LastTransitionTime is { } since && new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)).AddSeconds(minReadySeconds) <= now);
    }

    /// <summary>
    /// The order in which to delete surplus pods, most deletable first: unscheduled before scheduled,
    /// Pending before Unknown before Running, not ready before ready, more restarts first, newer first.
    /// </summary>
    public static IEnumerable<V1Pod> DeletionOrder(IEnumerable<V1Pod> pods) =>
        pods.OrderBy(p => string.IsNullOrEmpty(p.Spec?.NodeName) ? 0 : 1)
            .ThenBy(p => p.Status?.Phase switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 })
            .ThenBy(p => IsReady(p) ? 1 : 0)
            .ThenByDescending(p => p.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0)
            .ThenByDescending(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue);

    private static V1PodCondition? ReadyCondition(V1Pod pod) => pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
}
