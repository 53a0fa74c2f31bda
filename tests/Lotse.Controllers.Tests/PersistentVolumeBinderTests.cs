using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class PersistentVolumeBinderTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task AClaim_BindsTheSmallestVolumeThatFits_AndItsVolumeIsReleasedWhenItGoes()
    {
        await _client.CreateNamespaceAsync("pv-static");
        foreach (var (name, size) in (ValueTuple<string, string>[])[("pv-big", "5Gi"), ("pv-small", "1Gi"), ("pv-tiny", "100Mi")])
        {
            await _client.CoreV1.CreatePersistentVolumeAsync(new V1PersistentVolume
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1PersistentVolumeSpec
                {
                    Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) },
                    AccessModes = ["ReadWriteOnce"],
                    StorageClassName = "manual",
                    PersistentVolumeReclaimPolicy = "Retain",
                    HostPath = new V1HostPathVolumeSource { Path = $"/tmp/{name}" },
                },
            });
        }

        await EventuallyAsync(async () => (await _client.CoreV1.ReadPersistentVolumeAsync("pv-small")).Status?.Phase == "Available", "the volumes are Available");
        await Claim("pv-static", "data", "500Mi", "manual");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("data", "pv-static")).Status?.Phase == "Bound", "the claim is Bound");
        var claim = await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("data", "pv-static");
        Assert.Equal("pv-small", claim.Spec.VolumeName);
        Assert.Equal("1Gi", claim.Status.Capacity["storage"].ToString());
        Assert.Equal("yes", claim.Metadata.Annotations["pv.kubernetes.io/bind-completed"]);
        var volume = await _client.CoreV1.ReadPersistentVolumeAsync("pv-small");
        Assert.Equal(("Bound", "data", claim.Metadata.Uid), (volume.Status.Phase, volume.Spec.ClaimRef.Name, volume.Spec.ClaimRef.Uid));

        await _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync("data", "pv-static");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadPersistentVolumeAsync("pv-small")).Status?.Phase == "Released", "the retained volume is Released");
        foreach (var name in (string[])["pv-big", "pv-small", "pv-tiny"])
        {
            await _client.CoreV1.DeletePersistentVolumeAsync(name);
        }
    }

    [Fact]
    public async Task AClaimWithoutAClass_GetsLocalPath_WaitsForItsConsumer_AndIsProvisionedOnTheChosenNode()
    {
        await _client.CreateNamespaceAsync("pv-local");
        await EventuallyAsync(async () => (await _client.StorageV1.ListStorageClassAsync()).Items.Any(c => c.Metadata.Name == "local-path"), "the local-path class exists");
        var storageClass = await _client.StorageV1.ReadStorageClassAsync("local-path");
        Assert.Equal(("rancher.io/local-path", "WaitForFirstConsumer", "Delete", "true"), (storageClass.Provisioner, storageClass.VolumeBindingMode, storageClass.ReclaimPolicy, storageClass.Metadata.Annotations["storageclass.kubernetes.io/is-default-class"]));

        await Claim("pv-local", "cache", "2Gi", className: null);
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("cache", "pv-local")).Spec.StorageClassName == "local-path", "the default class is assigned");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedEventAsync("pv-local")).Items.Any(e => e.Reason == "WaitForFirstConsumer"), "the claim waits for its consumer");
        Assert.Equal("Pending", (await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("cache", "pv-local")).Status?.Phase ?? "Pending");

        // What the scheduler does when it places the first pod that uses the claim:
        await _client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch("""{"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"node-7"}}}""", V1Patch.PatchType.MergePatch), "cache", "pv-local");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("cache", "pv-local")).Status?.Phase == "Bound", "the claim is Bound to a provisioned volume");
        var claim = await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("cache", "pv-local");
        var volume = await _client.CoreV1.ReadPersistentVolumeAsync(claim.Spec.VolumeName);
        Assert.Equal($"pvc-{claim.Metadata.Uid}", volume.Metadata.Name);
        Assert.Equal($"/var/lib/lotse/storage/pvc-{claim.Metadata.Uid}_pv-local_cache", volume.Spec.HostPath.Path);
        Assert.Equal(("2Gi", "Delete", "local-path"), (volume.Spec.Capacity["storage"].ToString(), volume.Spec.PersistentVolumeReclaimPolicy, volume.Spec.StorageClassName));
        Assert.Equal(["node-7"], volume.Spec.NodeAffinity.Required.NodeSelectorTerms.Single().MatchExpressions.Single().Values);

        Assert.Equal(["lotse.io/local-path-cleanup"], volume.Metadata.Finalizers);

        // Reclaim policy Delete: the volume goes with its claim — once its node has removed the directory
        // (no agent here: the test lets the finalizer go as the agent would).
        await _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync("cache", "pv-local");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadPersistentVolumeAsync(volume.Metadata.Name)).Metadata.DeletionTimestamp is not null, "the provisioned volume is being deleted");
        await _client.CoreV1.PatchPersistentVolumeAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), volume.Metadata.Name);
        await EventuallyAsync(async () => (await _client.CoreV1.ListPersistentVolumeAsync()).Items.All(v => v.Metadata.Name != volume.Metadata.Name), "the provisioned volume is deleted");
    }

    private Task Claim(string ns, string name, string size, string? className) =>
        _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                StorageClassName = className,
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
            },
        }, ns);
}
