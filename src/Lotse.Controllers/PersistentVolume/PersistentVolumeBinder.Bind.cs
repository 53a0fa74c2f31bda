using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.PersistentVolume;

public sealed partial class PersistentVolumeBinder
{
    private const string BoundByController = "pv.kubernetes.io/bound-by-controller";
    private const string BindCompleted = "pv.kubernetes.io/bind-completed";

    /// <summary>
    /// kube's bind: the volume points at the claim (claimRef, Bound), then the claim at the volume
    /// (volumeName, bind-completed, Bound with the volume's modes and capacity). Each write is pinned
    /// to the version read, so a race retries instead of binding twice.
    /// </summary>
    private async Task BindAsync(V1PersistentVolume volume, V1PersistentVolumeClaim claim, CancellationToken cancellationToken)
    {
        var name = volume.Metadata.Name;
        if (volume.Spec.ClaimRef is null)
        {
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = volume.Metadata.ResourceVersion, ["annotations"] = new JsonObject { [BoundByController] = "yes" } },
                ["spec"] = new JsonObject
                {
                    ["claimRef"] = new JsonObject
                    {
                        ["kind"] = "PersistentVolumeClaim",
                        ["apiVersion"] = "v1",
                        ["namespace"] = claim.Metadata.NamespaceProperty,
                        ["name"] = claim.Metadata.Name,
                        ["uid"] = claim.Metadata.Uid,
                        ["resourceVersion"] = claim.Metadata.ResourceVersion,
                    },
                },
            };
            await _client.CoreV1.PatchPersistentVolumeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name, cancellationToken: cancellationToken);
        }

        if (volume.Status?.Phase != "Bound")
        {
            await _client.CoreV1.PatchPersistentVolumeStatusAsync(new V1Patch("""{"status":{"phase":"Bound"}}""", V1Patch.PatchType.MergePatch), name, cancellationToken: cancellationToken);
        }

        if (claim.Spec.VolumeName != name || claim.Metadata.Annotations?.ContainsKey(BindCompleted) != true)
        {
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = claim.Metadata.ResourceVersion, ["annotations"] = new JsonObject { [BindCompleted] = "yes", [BoundByController] = "yes" } },
                ["spec"] = new JsonObject { ["volumeName"] = name },
            };
            await _client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), claim.Metadata.Name, claim.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }

        if (claim.Status?.Phase != "Bound")
        {
            var status = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["phase"] = "Bound",
                    ["accessModes"] = JsonNode.Parse(KubernetesJson.Serialize(volume.Spec.AccessModes ?? [])),
                    ["capacity"] = JsonNode.Parse(KubernetesJson.Serialize(volume.Spec.Capacity ?? new Dictionary<string, ResourceQuantity>())),
                },
            };
            await _client.CoreV1.PatchNamespacedPersistentVolumeClaimStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), claim.Metadata.Name, claim.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            LogBound(Logger, claim.Metadata.NamespaceProperty, claim.Metadata.Name, name);
        }
    }

    /// <summary>A volume's phase follows its claim: Available without one, Released when it is gone, then reclaimed.</summary>
    private async Task SyncVolumeAsync(V1PersistentVolume volume, CancellationToken cancellationToken)
    {
        if (volume.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var reference = volume.Spec.ClaimRef;
        string phase;
        if (reference is null)
        {
            phase = "Available";
        }
        else
        {
            var claim = _claims.Get(reference.NamespaceProperty, reference.Name);
            if (claim is not null && (reference.Uid is null || claim.Metadata.Uid == reference.Uid))
            {
                return; // bound, or being bound from the claim's side
            }

            // The claim may only be missing from the cache: kube confirms with a live read.
            if (claim is null && await StillThereAsync(reference, cancellationToken))
            {
                return;
            }

            phase = "Released";
            if (volume.Spec.PersistentVolumeReclaimPolicy == "Delete")
            {
                _events.Record(volume, EventRecorder.Normal, "VolumeDelete", $"deleting volume {volume.Metadata.Name}: its claim {reference.NamespaceProperty}/{reference.Name} is gone");
                await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.DeletePersistentVolumeAsync(volume.Metadata.Name, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = volume.Metadata.Uid } }, cancellationToken: cancellationToken));
                return;
            }
        }

        if (volume.Status?.Phase != phase)
        {
            await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.PatchPersistentVolumeStatusAsync(new V1Patch($$"""{"status":{"phase":"{{phase}}"} }""", V1Patch.PatchType.MergePatch), volume.Metadata.Name, cancellationToken: cancellationToken));
        }
    }

    private async Task<bool> StillThereAsync(V1ObjectReference reference, CancellationToken cancellationToken) =>
        await ApiCalls.ReadOrNullAsync(_client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(reference.Name, reference.NamespaceProperty, cancellationToken: cancellationToken)) is { } live
        && (reference.Uid is null || live.Metadata.Uid == reference.Uid);

    /// <summary>
    /// The local-path provisioner: a hostPath volume <c>pvc-&lt;uid&gt;</c> at
    /// <c>&lt;storage path&gt;/pvc-&lt;uid&gt;_&lt;namespace&gt;_&lt;claim&gt;</c> (made by the kubelet on first mount),
    /// pinned to the chosen node by node affinity and bound to the claim from the start. Its finalizer
    /// keeps it until the agent on that node has removed the directory.
    /// </summary>
    private async Task<V1PersistentVolume> ProvisionAsync(V1PersistentVolumeClaim claim, V1StorageClass storageClass, string node, CancellationToken cancellationToken)
    {
        var name = $"pvc-{claim.Metadata.Uid}";
        if (_volumes.Get(name) is { } existing)
        {
            return existing;
        }

        var path = $"{_options.StoragePath.TrimEnd('/')}/{name}_{claim.Metadata.NamespaceProperty}_{claim.Metadata.Name}";
        var volume = new V1PersistentVolume
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Annotations = new Dictionary<string, string> { ["pv.kubernetes.io/provisioned-by"] = LocalPathOptions.Provisioner },
                Finalizers = [LocalPathOptions.CleanupFinalizer],
            },
            Spec = new V1PersistentVolumeSpec
            {
                Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = claim.Spec.Resources?.Requests?.TryGetValue("storage", out var size) == true ? size : new ResourceQuantity("1Gi") },
                AccessModes = claim.Spec.AccessModes is { Count: > 0 } modes ? modes : ["ReadWriteOnce"],
                PersistentVolumeReclaimPolicy = storageClass.ReclaimPolicy ?? "Delete",
                StorageClassName = storageClass.Metadata.Name,
                VolumeMode = claim.Spec.VolumeMode ?? "Filesystem",
                HostPath = new V1HostPathVolumeSource { Path = path, Type = "DirectoryOrCreate" },
                ClaimRef = new V1ObjectReference { Kind = "PersistentVolumeClaim", ApiVersion = "v1", NamespaceProperty = claim.Metadata.NamespaceProperty, Name = claim.Metadata.Name, Uid = claim.Metadata.Uid, ResourceVersion = claim.Metadata.ResourceVersion },
                NodeAffinity = new V1VolumeNodeAffinity
                {
                    Required = new V1NodeSelector
                    {
                        NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "kubernetes.io/hostname", OperatorProperty = "In", Values = [node] }] }],
                    },
                },
            },
        };
        try
        {
            volume = await _client.CoreV1.CreatePersistentVolumeAsync(volume, cancellationToken: cancellationToken);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            volume = await _client.CoreV1.ReadPersistentVolumeAsync(name, cancellationToken: cancellationToken);
        }

        LogProvisioned(Logger, name, path, node);
        _events.Record(claim, EventRecorder.Normal, "ProvisioningSucceeded", $"Successfully provisioned volume {name}");
        return volume;
    }
}
