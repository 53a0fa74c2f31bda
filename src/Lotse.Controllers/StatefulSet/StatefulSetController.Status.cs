using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.StatefulSet;

/// <summary>The status <c>kubectl rollout status</c> reads: counts per revision, and the current revision moving to the update revision once the rollout is done.</summary>
public sealed partial class StatefulSetController
{
    private async Task<V1StatefulSetStatus> UpdateStatusAsync(V1StatefulSet set, List<V1Pod> pods, V1ControllerRevision current, V1ControllerRevision update, CancellationToken cancellationToken)
    {
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var now = Time.GetUtcNow();
        var live = pods.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
        var status = new V1StatefulSetStatus
        {
            Replicas = pods.Count,
            ReadyReplicas = pods.Count(p => p.Status?.Phase == "Running" && PodStates.IsReady(p)),
            AvailableReplicas = pods.Count(p => p.Status?.Phase == "Running" && PodStates.IsAvailable(p, minReady, now)),
            CurrentReplicas = live.Count(p => RevisionOf(p) == current.Metadata.Name),
            UpdatedReplicas = live.Count(p => RevisionOf(p) == update.Metadata.Name),
            CurrentRevision = current.Metadata.Name,
            UpdateRevision = update.Metadata.Name,
            ObservedGeneration = set.Metadata.Generation,
            CollisionCount = set.Status?.CollisionCount ?? 0,
        };

        // kube's completeRollingUpdate: every replica runs the update revision and is ready.
        var replicas = set.Spec.Replicas ?? 1;
        if (set.Spec.UpdateStrategy?.Type != "OnDelete" && status.UpdatedReplicas == replicas && status.ReadyReplicas == replicas && status.Replicas == replicas)
        {
            status.CurrentReplicas = status.UpdatedReplicas;
            status.CurrentRevision = status.UpdateRevision;
        }

        if (set.Status is { } old && old.Replicas == status.Replicas && (old.ReadyReplicas ?? 0) == status.ReadyReplicas
            && (old.AvailableReplicas ?? 0) == status.AvailableReplicas && (old.CurrentReplicas ?? 0) == status.CurrentReplicas
            && (old.UpdatedReplicas ?? 0) == status.UpdatedReplicas && old.CurrentRevision == status.CurrentRevision
            && old.UpdateRevision == status.UpdateRevision && old.ObservedGeneration == status.ObservedGeneration)
        {
            return status;
        }

        var patch = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["replicas"] = status.Replicas,
                ["readyReplicas"] = NullIfZero(status.ReadyReplicas),
                ["availableReplicas"] = status.AvailableReplicas,
                ["currentReplicas"] = NullIfZero(status.CurrentReplicas),
                ["updatedReplicas"] = NullIfZero(status.UpdatedReplicas),
                ["currentRevision"] = status.CurrentRevision,
                ["updateRevision"] = status.UpdateRevision,
                ["observedGeneration"] = status.ObservedGeneration,
                ["collisionCount"] = status.CollisionCount,
            },
        };
        try
        {
            await _client.AppsV1.PatchNamespacedStatefulSetStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile.
        }

        return status;
    }

    private static int? NullIfZero(int? value) => value is 0 ? null : value;
}
