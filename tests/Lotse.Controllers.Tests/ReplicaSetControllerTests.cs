using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class ReplicaSetControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private async Task<List<V1Pod>> PodsAsync(string ns, string app) =>
        [.. (await _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"app={app}")).Items];

    [Fact]
    public async Task ReplicaSet_CreatesOwnedPods_ScalesUpAndDown_ReportsStatus()
    {
        await _client.CreateNamespaceAsync("rs-scale");
        var rs = await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("web", 3), "rs-scale");
        await EventuallyAsync(async () => (await PodsAsync("rs-scale", "web")).Count == 3, "3 pods exist");
        var pods = await PodsAsync("rs-scale", "web");
        Assert.All(pods, p =>
        {
            Assert.StartsWith("web-", p.Metadata.Name, StringComparison.Ordinal);
            var owner = Assert.Single(p.Metadata.OwnerReferences);
            Assert.Equal((rs.Metadata.Uid, "ReplicaSet", "apps/v1", true, true), (owner.Uid, owner.Kind, owner.ApiVersion, owner.Controller, owner.BlockOwnerDeletion));
        });
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "rs-scale")).Status?.Replicas == 3, "status.replicas is 3");
        var status = (await _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "rs-scale")).Status;
        Assert.Equal(3, status.FullyLabeledReplicas);
        Assert.Equal(1, status.ObservedGeneration);
        Assert.Null(status.ReadyReplicas); // no node agent: nothing is ready, and zero is omitted as kubernetes does

        await _client.AppsV1.PatchNamespacedReplicaSetScaleAsync(new V1Patch("{\"spec\":{\"replicas\":1}}", V1Patch.PatchType.MergePatch), "web", "rs-scale");
        await EventuallyAsync(async () => (await PodsAsync("rs-scale", "web")).Count == 1, "1 pod is left");
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "rs-scale")).Status?.Replicas == 1, "status.replicas is 1");

        // A deleted pod is replaced.
        await _client.CoreV1.DeleteNamespacedPodAsync((await PodsAsync("rs-scale", "web"))[0].Metadata.Name, "rs-scale");
        await EventuallyAsync(async () => (await PodsAsync("rs-scale", "web")).Count == 1, "the pod is replaced");
    }

    [Fact]
    public async Task ReplicaSet_AdoptsMatchingOrphan_ReleasesPodThatStopsMatching()
    {
        await _client.CreateNamespaceAsync("rs-adopt");
        await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = "orphan", Labels = new Dictionary<string, string> { ["app"] = "api" } }, Spec = Helpers.Template("api").Spec }, "rs-adopt");
        var rs = await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("api", 2), "rs-adopt");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("orphan", "rs-adopt")).Metadata.OwnerReferences?.SingleOrDefault()?.Uid == rs.Metadata.Uid, "the orphan is adopted");
        await EventuallyAsync(async () => (await PodsAsync("rs-adopt", "api")).Count == 2, "only one pod is created beside the adopted one");

        await _client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"labels\":{\"app\":\"other\"}}}", V1Patch.PatchType.MergePatch), "orphan", "rs-adopt");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("orphan", "rs-adopt")).Metadata.OwnerReferences is null or { Count: 0 }, "the pod is released");
        await EventuallyAsync(async () => (await PodsAsync("rs-adopt", "api")).Count == 2, "a replacement is created");
    }
}
