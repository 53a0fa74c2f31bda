using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Deployment;

public sealed partial class DeploymentController
{
    /// <summary>
    /// Status from the ReplicaSets (kube's calculateStatus): replicas, updatedReplicas (the new set's),
    /// ready, available, unavailable; Available when at least desired − maxUnavailable are available;
    /// Progressing complete once every replica is updated and available, failed after
    /// progressDeadlineSeconds without progress (looked at again when the deadline falls due).
    /// </summary>
    private async Task<Reconciled> SyncStatusAsync(V1Deployment deployment, V1ReplicaSet? newSet, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        var all = oldSets.Append(newSet).OfType<V1ReplicaSet>().ToList();
        var desired = deployment.Spec.Replicas ?? 1;
        var replicas = all.Sum(rs => rs.Status?.Replicas ?? 0);
        var updated = newSet?.Status?.Replicas ?? 0;
        var ready = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0);
        var available = Available(all);
        var unavailable = Math.Max(0, desired - available);
        var status = new JsonObject
        {
            ["observedGeneration"] = deployment.Metadata.Generation,
            ["replicas"] = NullIfZero(replicas),
            ["updatedReplicas"] = NullIfZero(updated),
            ["readyReplicas"] = NullIfZero(ready),
            ["availableReplicas"] = NullIfZero(available),
            ["unavailableReplicas"] = NullIfZero(unavailable),
        };
        var current = deployment.Status;
        var changed = current is null || current.ObservedGeneration != deployment.Metadata.Generation || (current.Replicas ?? 0) != replicas
            || (current.UpdatedReplicas ?? 0) != updated || (current.ReadyReplicas ?? 0) != ready || (current.AvailableReplicas ?? 0) != available
            || (current.UnavailableReplicas ?? 0) != unavailable;
        if (changed)
        {
            await PatchDeploymentStatusAsync(deployment, status, cancellationToken);
        }

        var minAvailable = desired - MaxUnavailable(deployment);
        if (available >= minAvailable)
        {
            await SetConditionAsync(deployment, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", cancellationToken);
        }
        else
        {
            await SetConditionAsync(deployment, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", cancellationToken);
        }

        if (deployment.Spec.Paused == true)
        {
            await SetConditionAsync(deployment, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", cancellationToken);
            return Reconciled.Done;
        }

        var complete = newSet is not null && updated == desired && replicas == desired && available == desired && (newSet.Spec.Replicas ?? 0) == desired;
        if (complete)
        {
            await SetConditionAsync(deployment, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{newSet!.Metadata.Name}\" has successfully progressed.", cancellationToken);
            return Reconciled.Done;
        }

        var deadline = deployment.Spec.ProgressDeadlineSeconds ?? 600;
        var progressing = deployment.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        if (progressing?.LastUpdateTime is { } since && progressing.Reason != "ProgressDeadlineExceeded")
        {
            var due = new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)).AddSeconds(deadline);
            var now = Time.GetUtcNow();
            if (now >= due)
            {
                await SetConditionAsync(deployment, "Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{newSet?.Metadata.Name}\" has timed out progressing.", cancellationToken);
                return Reconciled.Done;
            }

            return Reconciled.After(due - now + TimeSpan.FromSeconds(1));
        }

        return Reconciled.Done;
    }

    private static int? NullIfZero(int value) => value == 0 ? null : value;

    /// <summary>
    /// Sets a condition when its status, reason or message changes: lastUpdateTime moves on every
    /// change, lastTransitionTime only when the status flips (as kube's SetDeploymentCondition).
    /// </summary>
    private async Task SetConditionAsync(V1Deployment deployment, string type, string status, string reason, string message, CancellationToken cancellationToken)
    {
        var conditions = deployment.Status?.Conditions ?? [];
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing is not null && existing.Status == status && existing.Reason == reason && existing.Message == message)
        {
            return;
        }

        var now = Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var transition = existing is not null && existing.Status == status && existing.LastTransitionTime is { } t
            ? t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            : now;
        var list = new JsonArray();
        foreach (var condition in conditions.Where(c => c.Type != type))
        {
            list.Add(JsonNode.Parse(KubernetesJson.Serialize(condition)));
        }

        list.Add(new JsonObject { ["type"] = type, ["status"] = status, ["lastUpdateTime"] = now, ["lastTransitionTime"] = transition, ["reason"] = reason, ["message"] = message });

        // Keep the cached copy in step, so further conditions in this reconcile build on this one.
        var updated = KubernetesJson.Deserialize<V1DeploymentCondition>(list[^1]!.ToJsonString());
        deployment.Status ??= new V1DeploymentStatus();
        deployment.Status.Conditions = [.. conditions.Where(c => c.Type != type), updated];
        await PatchDeploymentStatusAsync(deployment, new JsonObject { ["conditions"] = list }, cancellationToken);
    }

    private async Task PatchDeploymentStatusAsync(V1Deployment deployment, JsonObject status, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["status"] = status };
        await ApiCalls.IgnoreNotFoundAsync(_client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), deployment.Metadata.Name, deployment.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }
}
