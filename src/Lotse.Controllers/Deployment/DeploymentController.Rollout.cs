using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Deployment;

public sealed partial class DeploymentController
{
    /// <summary>maxSurge: an absolute number or a percentage of the replicas rounded up (default 25 %).</summary>
    internal static int MaxSurge(V1Deployment deployment) =>
        deployment.Spec.Strategy?.Type == "Recreate" ? 0 : Resolve(deployment.Spec.Strategy?.RollingUpdate?.MaxSurge, deployment.Spec.Replicas ?? 1, roundUp: true);

    /// <summary>maxUnavailable: a number or a percentage rounded down (default 25 %); at least 1 when maxSurge is 0.</summary>
    internal static int MaxUnavailable(V1Deployment deployment)
    {
        if (deployment.Spec.Strategy?.Type == "Recreate")
        {
            return 0;
        }

        var desired = deployment.Spec.Replicas ?? 1;
        var unavailable = Resolve(deployment.Spec.Strategy?.RollingUpdate?.MaxUnavailable, desired, roundUp: false);
        if (unavailable == 0 && MaxSurge(deployment) == 0)
        {
            unavailable = 1;
        }

        return Math.Min(unavailable, desired);
    }

    private static int Resolve(IntOrString? value, int total, bool roundUp) => IntOrPercent.Scaled(value ?? "25%", total, roundUp);

    private static int SpecReplicas(IEnumerable<V1ReplicaSet> sets) => sets.Sum(rs => rs.Spec.Replicas ?? 0);

    private static int Available(IEnumerable<V1ReplicaSet> sets) => sets.Sum(rs => rs.Status?.AvailableReplicas ?? 0);

    /// <summary>
    /// One step of a rolling update (kube's rolloutRolling): scale the new ReplicaSet up as far as
    /// maxSurge allows, then scale old ones down as far as maxUnavailable allows, unhealthy ones first.
    /// </summary>
    private async Task RollAsync(V1Deployment deployment, V1ReplicaSet newSet, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var maxSurge = MaxSurge(deployment);
        var maxUnavailable = MaxUnavailable(deployment);
        var all = oldSets.Append(newSet).ToList();

        // Up: never beyond desired + maxSurge pods in all.
        var newReplicas = newSet.Spec.Replicas ?? 0;
        if (newReplicas > desired)
        {
            await ScaleReplicaSetAsync(deployment, newSet, desired, cancellationToken);
            newReplicas = desired;
        }
        else if (newReplicas < desired)
        {
            var room = desired + maxSurge - SpecReplicas(all);
            var up = Math.Min(room, desired - newReplicas);
            if (up > 0)
            {
                newReplicas += up;
                await ScaleReplicaSetAsync(deployment, newSet, newReplicas, cancellationToken);
            }
        }

        // Down: keep at least desired - maxUnavailable available; count the new set's not-yet-available pods against it.
        var minAvailable = desired - maxUnavailable;
        var newUnavailable = Math.Max(0, newReplicas - (newSet.Status?.AvailableReplicas ?? 0));
        var oldTotal = SpecReplicas(oldSets);
        var budget = oldTotal + newReplicas - minAvailable - newUnavailable;
        if (budget <= 0 || oldTotal == 0)
        {
            return;
        }

        // Unhealthy old pods (not available) go first, they add nothing to availability.
        foreach (var rs in oldSets.OrderBy(r => r.Metadata.CreationTimestamp))
        {
            var unhealthy = (rs.Spec.Replicas ?? 0) - (rs.Status?.AvailableReplicas ?? 0);
            var cut = Math.Min(Math.Max(unhealthy, 0), budget);
            if (cut > 0)
            {
                await ScaleReplicaSetAsync(deployment, rs, (rs.Spec.Replicas ?? 0) - cut, cancellationToken);
                rs.Spec.Replicas -= cut;
                budget -= cut;
            }
        }

        var available = Available(oldSets) + (newSet.Status?.AvailableReplicas ?? 0);
        var down = Math.Min(budget, available - minAvailable);
        foreach (var rs in oldSets.OrderBy(r => r.Metadata.CreationTimestamp))
        {
            if (down <= 0)
            {
                break;
            }

            var cut = Math.Min(rs.Spec.Replicas ?? 0, down);
            if (cut > 0)
            {
                await ScaleReplicaSetAsync(deployment, rs, (rs.Spec.Replicas ?? 0) - cut, cancellationToken);
                down -= cut;
            }
        }
    }

    /// <summary>Recreate: every old pod goes first; the new ReplicaSet scales up only once none is left.</summary>
    private async Task RecreateAsync(V1Deployment deployment, V1ReplicaSet newSet, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        foreach (var rs in oldSets.Where(r => (r.Spec.Replicas ?? 0) > 0))
        {
            await ScaleReplicaSetAsync(deployment, rs, 0, cancellationToken);
        }

        if (oldSets.Any(rs => (rs.Spec.Replicas ?? 0) > 0 || (rs.Status?.Replicas ?? 0) > 0))
        {
            return;
        }

        var desired = deployment.Spec.Replicas ?? 1;
        if ((newSet.Spec.Replicas ?? 0) != desired)
        {
            await ScaleReplicaSetAsync(deployment, newSet, desired, cancellationToken);
        }
    }

    /// <summary>While paused, only the replica count follows: the newest active set takes the difference.</summary>
    private async Task ScaleActiveAsync(V1Deployment deployment, V1ReplicaSet? newSet, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        var active = oldSets.Append(newSet).OfType<V1ReplicaSet>().Where(rs => (rs.Spec.Replicas ?? 0) > 0).OrderByDescending(rs => rs.Metadata.CreationTimestamp).ToList();
        var target = newSet ?? active.FirstOrDefault();
        if (target is null)
        {
            return;
        }

        var diff = (deployment.Spec.Replicas ?? 1) - SpecReplicas(active);
        if (diff != 0)
        {
            await ScaleReplicaSetAsync(deployment, target, Math.Max(0, (target.Spec.Replicas ?? 0) + diff), cancellationToken);
        }
    }

    private async Task ScaleReplicaSetAsync(V1Deployment deployment, V1ReplicaSet rs, int replicas, CancellationToken cancellationToken)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var annotations = new JsonObject();
        AnnotateReplicas(annotations, rs, desired, MaxSurge(deployment));
        if ((rs.Spec.Replicas ?? 0) == replicas && annotations.Count == 0)
        {
            return;
        }

        // Guarded by resourceVersion: a decision made on a stale ReplicaSet is retried, not applied.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = rs.Metadata.ResourceVersion, ["annotations"] = annotations },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
        };
        await PatchReplicaSetAsync(rs, patch, cancellationToken);
        if ((rs.Spec.Replicas ?? 0) != replicas)
        {
            var from = rs.Spec.Replicas ?? 0;
            _events.Record(deployment, EventRecorder.Normal, "ScalingReplicaSet", $"Scaled {(replicas > from ? "up" : "down")} replica set {rs.Metadata.Name} from {from} to {replicas}");
            await SetConditionAsync(deployment, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{rs.Metadata.Name}\" is progressing.", cancellationToken);
        }
    }

    /// <summary>Old ReplicaSets scaled to zero beyond revisionHistoryLimit (default 10) are deleted, oldest first.</summary>
    private async Task CleanUpHistoryAsync(V1Deployment deployment, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        var limit = deployment.Spec.RevisionHistoryLimit ?? 10;
        var idle = oldSets.Where(rs => (rs.Spec.Replicas ?? 0) == 0 && (rs.Status?.Replicas ?? 0) == 0 && rs.Metadata.DeletionTimestamp is null).OrderBy(Revision).ToList();
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - limit)))
        {
            try
            {
                await _client.AppsV1.DeleteNamespacedReplicaSetAsync(rs.Metadata.Name, rs.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = rs.Metadata.Uid } }, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                // Gone or replaced meanwhile.
            }
        }
    }
}
