using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// Kubernetes' ControllerRefManager for pods, shared by the workload controllers: the pods an owner
/// controls are those with its controller reference that still match it; matching orphans are
/// adopted and owned pods that stopped matching are released, each by a patch pinned to the pod's UID.
/// An owner being deleted keeps what it has and adopts nothing.
/// </summary>
public static class PodClaims
{
    /// <summary>Adds the indexes <see cref="Candidates"/> reads (by owner UID, and orphans by namespace) to the pod informer.</summary>
    public static void Index(Informer<V1Pod> pods)
    {
        pods.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
        pods.AddIndex(Owners.OrphanIndex, Owners.OrphanNamespace);
    }

    /// <summary>The pods an owner may claim: those that name it, and the orphans of its namespace — not every pod of the namespace.</summary>
    public static IEnumerable<V1Pod> Candidates(Informer<V1Pod> pods, IKubernetesObject<V1ObjectMeta> owner) =>
        pods.ByIndex(Owners.OwnerUidIndex, owner.Metadata.Uid).Concat(pods.ByIndex(Owners.OrphanIndex, owner.Metadata.NamespaceProperty ?? string.Empty));

    public static async Task<List<V1Pod>> ClaimAsync(IKubernetes client, IKubernetesObject<V1ObjectMeta> owner, string apiVersion, string kind, IEnumerable<V1Pod> candidates, Func<V1Pod, bool> matches, CancellationToken cancellationToken)
    {
        var deleting = owner.Metadata.DeletionTimestamp is not null;
        var owned = new List<V1Pod>();
        foreach (var pod in candidates)
        {
            var controller = Owners.ControllerOf(pod);
            var match = matches(pod);
            if (controller is not null)
            {
                if (controller.Uid != owner.Metadata.Uid)
                {
                    continue;
                }

                if (match || deleting)
                {
                    owned.Add(pod);
                }
                else
                {
                    await SetOwnersAsync(client, pod, [.. pod.Metadata.OwnerReferences!.Where(r => r.Uid != owner.Metadata.Uid)], cancellationToken);
                }
            }
            else if (match && !deleting && pod.Metadata.DeletionTimestamp is null
                && await SetOwnersAsync(client, pod, [.. pod.Metadata.OwnerReferences ?? [], Owners.ControllerReference(owner, apiVersion, kind)], cancellationToken))
            {
                owned.Add(pod);
            }
        }

        return owned;
    }

    /// <summary>Replaces a pod's owner references, guarded by its UID (a recreated pod of the same name is left alone); false when the pod went or changed.</summary>
    private static async Task<bool> SetOwnersAsync(IKubernetes client, V1Pod pod, List<V1OwnerReference> owners, CancellationToken cancellationToken)
    {
        var patch = new { metadata = new { uid = pod.Metadata.Uid, ownerReferences = owners } };
        try
        {
            await client.CoreV1.PatchNamespacedPodAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity)
        {
            return false;
        }
    }
}
