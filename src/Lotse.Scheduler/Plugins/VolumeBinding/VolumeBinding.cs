using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.VolumeBinding;

/// <summary>
/// Filter: a pod's PersistentVolumeClaims must exist and not be going away; a bound claim's volume
/// must allow the node (its nodeAffinity, as local volumes carry); an unbound claim must be of a class
/// that binds when its first consumer is scheduled (WaitForFirstConsumer). PreBind: such claims are
/// annotated with the chosen node (<c>volume.kubernetes.io/selected-node</c>) for the provisioner.
/// </summary>
public sealed class VolumeBinding(InformerFactory informers) : IFilterPlugin
{
    public const string SelectedNodeAnnotation = "volume.kubernetes.io/selected-node";

    private readonly Informer<V1PersistentVolumeClaim> _claims = informers.PersistentVolumeClaims();
    private readonly Informer<V1PersistentVolume> _volumes = informers.PersistentVolumes();
    private readonly Informer<V1StorageClass> _classes = informers.StorageClasses();

    public string Name => "VolumeBinding";

    public IEnumerable<IInformer> Informers => [_claims, _volumes, _classes];

    /// <summary>Calls <paramref name="changed"/> when a claim, volume or class changes (a waiting pod may fit now).</summary>
    public void OnChange(Action changed)
    {
        _claims.AddHandler(InformerHandler.ForAll<V1PersistentVolumeClaim>(_ => changed()));
        _volumes.AddHandler(InformerHandler.ForAll<V1PersistentVolume>(_ => changed()));
        _classes.AddHandler(InformerHandler.ForAll<V1StorageClass>(_ => changed()));
    }

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        if (pod.Claims.Count == 0)
        {
            return null; // most pods: nothing to look up per node
        }

        foreach (var name in pod.Claims)
        {
            var claim = _claims.Get(pod.Pod.Metadata.NamespaceProperty, name);
            if (claim is null)
            {
                return $"persistentvolumeclaim \"{name}\" not found";
            }

            if (claim.Metadata.DeletionTimestamp is not null)
            {
                return $"persistentvolumeclaim \"{name}\" is being deleted";
            }

            if (claim.Spec?.VolumeName is { Length: > 0 } volumeName)
            {
                var required = _volumes.Get(volumeName)?.Spec?.NodeAffinity?.Required;
                if (required is not null && !required.NodeSelectorTerms.Any(t => NodeAffinity.NodeAffinity.Matches(t, node)))
                {
                    return "node(s) had volume node affinity conflict";
                }
            }
            else if (!WaitsForConsumer(claim))
            {
                return "pod has unbound immediate PersistentVolumeClaims";
            }
        }

        return null;
    }

    /// <summary>Tells the provisioner where the pod goes: every unbound claim that waited for it gets the node.</summary>
    public async Task PreBindAsync(IKubernetes client, V1Pod pod, string node, CancellationToken cancellationToken)
    {
        foreach (var name in ClaimNames(pod))
        {
            var claim = _claims.Get(pod.Metadata.NamespaceProperty, name);
            if (claim is null || claim.Spec?.VolumeName is { Length: > 0 } || !WaitsForConsumer(claim)
                || claim.Metadata.Annotations?.TryGetValue(SelectedNodeAnnotation, out var selected) == true && selected == node)
            {
                continue;
            }

            var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [SelectedNodeAnnotation] = node } } };
            await client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
    }

    private bool WaitsForConsumer(V1PersistentVolumeClaim claim) =>
        claim.Spec?.StorageClassName is { Length: > 0 } className && _classes.Get(className)?.VolumeBindingMode == "WaitForFirstConsumer";

    private static IEnumerable<string> ClaimNames(V1Pod pod) =>
        (pod.Spec?.Volumes ?? []).Select(v => v.PersistentVolumeClaim?.ClaimName).OfType<string>();
}
