using k8s;
using k8s.Models;
using static Lotse.Scheduler.Tests.SchedulerFixture;

namespace Lotse.Scheduler.Tests;

/// <summary>Pods with PersistentVolumeClaims: missing claims wait, local volumes pin pods, first consumers pick the node.</summary>
public sealed class VolumeBindingTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task Claims_DecideWhereAPodMayGo()
    {
        await fixture.NodeAsync("vol-a", labels: new Dictionary<string, string> { ["kubernetes.io/hostname"] = "vol-a" });
        await fixture.NodeAsync("vol-b", labels: new Dictionary<string, string> { ["kubernetes.io/hostname"] = "vol-b" });
        await _client.StorageV1.CreateStorageClassAsync(new V1StorageClass { Metadata = new V1ObjectMeta { Name = "late" }, Provisioner = "example.com/late", VolumeBindingMode = "WaitForFirstConsumer" });
        await _client.StorageV1.CreateStorageClassAsync(new V1StorageClass { Metadata = new V1ObjectMeta { Name = "now" }, Provisioner = "example.com/now", VolumeBindingMode = "Immediate" });

        // A claim that does not exist yet: the pod waits, and goes once it is there.
        await _client.CoreV1.CreateNamespacedPodAsync(WithClaim("waits", "later"), "default");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.Any(e => e.InvolvedObject.Name == "waits" && e.Reason == "FailedScheduling" && e.Message.Contains("persistentvolumeclaim \"later\" not found", StringComparison.Ordinal)), "the pod waits for its claim");
        await Claim("later", "late");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("waits", "default")).Spec.NodeName is not null, "the pod is scheduled once its claim exists");

        // The first consumer of a WaitForFirstConsumer claim names the node for the provisioner.
        var node = (await _client.CoreV1.ReadNamespacedPodAsync("waits", "default")).Spec.NodeName;
        Assert.Equal(node, (await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("later", "default")).Metadata.Annotations["volume.kubernetes.io/selected-node"]);

        // An unbound claim of an Immediate class keeps the pod back.
        await Claim("unbound", "now");
        await _client.CoreV1.CreateNamespacedPodAsync(WithClaim("blocked", "unbound"), "default");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.Any(e => e.InvolvedObject.Name == "blocked" && e.Message.Contains("pod has unbound immediate PersistentVolumeClaims", StringComparison.Ordinal)), "the pod waits for its claim to bind");

        // A bound claim whose volume lives on vol-b takes the pod there.
        await _client.CoreV1.CreatePersistentVolumeAsync(new V1PersistentVolume
        {
            Metadata = new V1ObjectMeta { Name = "on-b" },
            Spec = new V1PersistentVolumeSpec
            {
                Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") },
                AccessModes = ["ReadWriteOnce"],
                Local = new V1LocalVolumeSource { Path = "/mnt/disk" },
                NodeAffinity = new V1VolumeNodeAffinity { Required = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "kubernetes.io/hostname", OperatorProperty = "In", Values = ["vol-b"] }] }] } },
            },
        });
        var pinned = new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = "pinned" },
            Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], VolumeName = "on-b", StorageClassName = string.Empty, Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } } },
        };
        await _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(pinned, "default");
        foreach (var name in (string[])["local-1", "local-2", "local-3"])
        {
            await _client.CoreV1.CreateNamespacedPodAsync(WithClaim(name, "pinned"), "default");
        }

        foreach (var name in (string[])["local-1", "local-2", "local-3"])
        {
            await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync(name, "default")).Spec.NodeName == "vol-b", $"{name} goes where its volume is");
        }
    }

    private static V1Pod WithClaim(string name, string claim)
    {
        var pod = Pod(name);
        pod.Spec.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } }];
        return pod;
    }

    private Task Claim(string name, string className) => _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(new V1PersistentVolumeClaim
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], StorageClassName = className, Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } } },
    }, "default");
}
