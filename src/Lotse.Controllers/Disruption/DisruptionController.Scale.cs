using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Disruption;

public sealed partial class DisruptionController
{
    /// <summary>
    /// kube's getExpectedPodCount: an integer minAvailable counts the selected pods; maxUnavailable and a
    /// percentage minAvailable are taken of the summed scale of the pods' controllers (rounded up).
    /// </summary>
    private async Task<(int Expected, int Desired)> ExpectedAsync(V1PodDisruptionBudget budget, List<V1Pod> pods, CancellationToken cancellationToken)
    {
        var spec = budget.Spec;
        if (spec?.MaxUnavailable is { } maxUnavailable)
        {
            var expected = await ScaleOfControllersAsync(pods, cancellationToken);
            return (expected, Math.Max(0, expected - Scaled(maxUnavailable, expected)));
        }

        if (spec?.MinAvailable is { } minAvailable)
        {
            if (!IntOrPercent.IsPercent(minAvailable))
            {
                return (pods.Count, Scaled(minAvailable, pods.Count));
            }

            var expected = await ScaleOfControllersAsync(pods, cancellationToken);
            return (expected, Scaled(minAvailable, expected));
        }

        return (0, 0);
    }

    /// <summary>A budget's number: the integer, or the percentage of the total rounded up.</summary>
    internal static int Scaled(IntOrString value, int total)
    {
        try
        {
            return IntOrPercent.Scaled(value, total, roundUp: true);
        }
        catch (FormatException e)
        {
            throw new ControllerLookupException(e.Message);
        }
    }

    /// <summary>
    /// The scale of every distinct controller of the pods (kube's getExpectedScale): ReplicaSets (or the
    /// Deployment that owns them), StatefulSets and ReplicationControllers; a pod without a controller
    /// it knows makes the budget uncomputable.
    /// </summary>
    private async Task<int> ScaleOfControllersAsync(List<V1Pod> pods, CancellationToken cancellationToken)
    {
        // Keyed by the controller whose scale counts: a Deployment counts once however many of its
        // ReplicaSets own pods.
        var scales = new Dictionary<string, int>(StringComparer.Ordinal);
        var looked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var owner = Owners.ControllerOf(pod) ?? throw new ControllerLookupException($"found no controller ref for pod \"{pod.Metadata.Name}\"");
            if (!looked.Add(owner.Uid))
            {
                continue;
            }

            var (uid, scale) = await ScaleOfAsync(pod.Metadata.NamespaceProperty, owner, cancellationToken)
                ?? throw new ControllerLookupException($"found no controllers for pod \"{pod.Metadata.Name}\"");
            scales[uid] = scale;
        }

        return scales.Values.Sum();
    }

    private async Task<(string Uid, int Scale)?> ScaleOfAsync(string ns, V1OwnerReference owner, CancellationToken cancellationToken)
    {
        switch (owner.Kind, owner.ApiVersion.Split('/')[0])
        {
            case ("ReplicaSet", "apps"):
                var replicaSet = _replicaSets.Get(ns, owner.Name);
                if (replicaSet is null || replicaSet.Metadata.Uid != owner.Uid)
                {
                    return null;
                }

                if (Owners.ControllerOf(replicaSet) is { Kind: "Deployment" } deploymentRef)
                {
                    var deployment = _deployments.Get(ns, deploymentRef.Name);
                    return deployment is null || deployment.Metadata.Uid != deploymentRef.Uid ? null : (deployment.Metadata.Uid, deployment.Spec?.Replicas ?? 1);
                }

                return (replicaSet.Metadata.Uid, replicaSet.Spec?.Replicas ?? 1);
            case ("StatefulSet", "apps"):
                var set = await ApiCalls.ReadOrNullAsync(_client.AppsV1.ReadNamespacedStatefulSetAsync(owner.Name, ns, cancellationToken: cancellationToken));
                return set is null || set.Metadata.Uid != owner.Uid ? null : (set.Metadata.Uid, set.Spec?.Replicas ?? 1);
            case ("ReplicationController", "v1"):
                var rc = await ApiCalls.ReadOrNullAsync(_client.CoreV1.ReadNamespacedReplicationControllerAsync(owner.Name, ns, cancellationToken: cancellationToken));
                return rc is null || rc.Metadata.Uid != owner.Uid ? null : (rc.Metadata.Uid, rc.Spec?.Replicas ?? 1);
            default:
                return null;
        }
    }
}
