using k8s;
using k8s.Models;

namespace Lotse.Controllers.Disruption;

/// <summary>What the disruption controller concluded about one budget, and how it lands in the status (kube's updatePdbStatus / failSafe).</summary>
internal sealed record BudgetStatus(int Expected, int Desired, int Healthy, int Allowed, IDictionary<string, DateTime?>? Disrupted, long? ObservedGeneration, string Reason, string Message)
{
    public const string ConditionType = "DisruptionAllowed";

    public static BudgetStatus Computed(int expected, int desired, int healthy, Dictionary<string, DateTime?> disrupted, long generation)
    {
        var allowed = healthy - desired;
        if (expected <= 0 || allowed <= 0)
        {
            allowed = 0;
        }

        return new(expected, desired, healthy, allowed, disrupted.Count == 0 ? null : disrupted, generation, allowed > 0 ? "SufficientPods" : "InsufficientPods", string.Empty);
    }

    /// <summary>kube's failSafe: the counts stay, no disruption is allowed, the condition says why.</summary>
    public static BudgetStatus Failed(V1PodDisruptionBudgetStatus? current, string error) =>
        new(current?.ExpectedPods ?? 0, current?.DesiredHealthy ?? 0, current?.CurrentHealthy ?? 0, 0, current?.DisruptedPods, current?.ObservedGeneration, "SyncFailed", error);

    public V1PodDisruptionBudgetStatus ApplyTo(V1PodDisruptionBudgetStatus? current, DateTimeOffset now)
    {
        var conditionStatus = Allowed > 0 ? "True" : "False";
        var conditions = (current?.Conditions ?? []).Where(c => c.Type != ConditionType).ToList();
        var old = current?.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        conditions.Add(new V1Condition
        {
            Type = ConditionType,
            Status = conditionStatus,
            Reason = Reason,
            Message = Message,
            ObservedGeneration = ObservedGeneration,
            // meta.SetStatusCondition: the transition time moves only when the status does.
            LastTransitionTime = old?.Status == conditionStatus ? old.LastTransitionTime : now.UtcDateTime,
        });
        return new V1PodDisruptionBudgetStatus
        {
            ExpectedPods = Expected,
            DesiredHealthy = Desired,
            CurrentHealthy = Healthy,
            DisruptionsAllowed = Allowed,
            DisruptedPods = Disrupted,
            ObservedGeneration = ObservedGeneration,
            Conditions = conditions,
        };
    }

    public static bool SameAs(V1PodDisruptionBudgetStatus next, V1PodDisruptionBudgetStatus? current) =>
        current is not null && KubernetesJson.Serialize(next) == KubernetesJson.Serialize(current);
}
