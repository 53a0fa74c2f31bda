using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

/// <summary>ReplicationControllers run through the ReplicaSet controller's logic, owned and reported as themselves.</summary>
[Collection(ControllersGroup.Name)]
public sealed class ReplicationControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task AReplicationController_KeepsItsPods_ScalesThem_AndTakesThemWhenDeleted()
    {
        await _client.CreateNamespaceAsync("rc");
        var created = await _client.CoreV1.CreateNamespacedReplicationControllerAsync(new V1ReplicationController
        {
            Metadata = new V1ObjectMeta { Name = "legacy" },
            Spec = new V1ReplicationControllerSpec { Replicas = 3, Template = Helpers.Template("legacy") },
        }, "rc");
        Assert.Equal("legacy", created.Spec.Selector["app"]); // defaulted from the template

        async Task<List<V1Pod>> PodsAsync() => [.. (await _client.CoreV1.ListNamespacedPodAsync("rc")).Items.Where(p => p.Metadata.DeletionTimestamp is null)];
        await EventuallyAsync(async () => (await PodsAsync()).Count == 3, "three pods");
        var owner = (await PodsAsync())[0].Metadata.OwnerReferences.Single();
        Assert.Equal(("v1", "ReplicationController", "legacy", created.Metadata.Uid, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller));
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedReplicationControllerAsync("legacy", "rc")).Status?.Replicas == 3, "the status counts three");

        await _client.CoreV1.PatchNamespacedReplicationControllerScaleAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "legacy", "rc");
        await EventuallyAsync(async () => (await PodsAsync()).Count == 1, "scaled down to one");
        var events = await _client.CoreV1.ListNamespacedEventAsync("rc", fieldSelector: "involvedObject.kind=ReplicationController");
        Assert.Contains(events.Items, e => e.Reason == "SuccessfulCreate" && e.Source.Component == "replication-controller");

        await _client.CoreV1.DeleteNamespacedReplicationControllerAsync("legacy", "rc");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("rc")).Items.Count == 0, "the garbage collector removed its pods");
    }
}
