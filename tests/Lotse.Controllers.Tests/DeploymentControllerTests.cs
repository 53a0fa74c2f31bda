using k8s;
using k8s.Models;
using Lotse.Controllers.Deployment;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class DeploymentControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private static V1Deployment Deployment(string name, int replicas, string image = "busybox:1.36", string strategy = "RollingUpdate") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] },
            },
            Strategy = new V1DeploymentStrategy { Type = strategy },
        },
    };

    private async Task<List<V1ReplicaSet>> SetsAsync(string ns) => [.. (await _client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items];

    [Fact]
    public async Task Create_MakesAReplicaSetWithHashAndRevision_ThenPods()
    {
        await _client.CreateNamespaceAsync("deploy-create");
        var deployment = await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), "deploy-create");
        await EventuallyAsync(async () => (await SetsAsync("deploy-create")).Count == 1, "a replicaset exists");
        var rs = (await SetsAsync("deploy-create"))[0];
        var hash = rs.Metadata.Labels[TemplateHash.Label];
        Assert.Equal($"web-{hash}", rs.Metadata.Name);
        Assert.Equal("1", rs.Metadata.Annotations[DeploymentController.RevisionAnnotation]);
        Assert.Equal(hash, rs.Spec.Selector.MatchLabels[TemplateHash.Label]);
        Assert.Equal(hash, rs.Spec.Template.Metadata.Labels[TemplateHash.Label]);
        Assert.Equal(deployment.Metadata.Uid, rs.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal(3, rs.Spec.Replicas);
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-create", labelSelector: $"pod-template-hash={hash}")).Items.Count == 3, "3 pods carry the hash");
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "deploy-create")).Status is { Replicas: 3, UpdatedReplicas: 3, ObservedGeneration: 1 }, "status counts replicas and updated replicas");
        var status = (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "deploy-create")).Status;
        Assert.Equal(3, status.UnavailableReplicas); // no node agent: nothing becomes available
        Assert.Equal(("False", "MinimumReplicasUnavailable"), status.Conditions.Where(c => c.Type == "Available").Select(c => (c.Status, c.Reason)).Single());
        Assert.Equal("1", (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "deploy-create")).Metadata.Annotations[DeploymentController.RevisionAnnotation]);
    }

    [Fact]
    public async Task Scale_ResizesTheReplicaSet()
    {
        await _client.CreateNamespaceAsync("deploy-scale");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 1), "deploy-scale");
        await EventuallyAsync(async () => (await SetsAsync("deploy-scale")).Count == 1, "a replicaset exists");
        await _client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch), "web", "deploy-scale");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-scale")).Items.Count == 5, "5 pods");
        await _client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.MergePatch), "web", "deploy-scale");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-scale")).Items.Count == 2, "2 pods");
        Assert.Single(await SetsAsync("deploy-scale"));
    }

    [Fact]
    public async Task Recreate_NewTemplate_ReplacesAllPodsAndRollbackMovesTheRevision()
    {
        await _client.CreateNamespaceAsync("deploy-recreate");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 2, strategy: "Recreate"), "deploy-recreate");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-recreate")).Items.Count == 2, "2 pods of revision 1");

        var image = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.37\"}]}}}}";
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(image, V1Patch.PatchType.StrategicMergePatch), "web", "deploy-recreate");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-recreate")).Items is { Count: 2 } pods && pods.All(p => p.Spec.Containers[0].Image == "busybox:1.37"), "2 pods of the new image");
        var sets = await SetsAsync("deploy-recreate");
        Assert.Equal(2, sets.Count);
        var old = sets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "busybox:1.36");
        Assert.Equal(0, old.Spec.Replicas);
        Assert.Equal("2", sets.Single(rs => rs != old).Metadata.Annotations[DeploymentController.RevisionAnnotation]);

        // kubectl rollout undo: the old template comes back; its ReplicaSet becomes revision 3.
        var back = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\"}]}}}}";
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(back, V1Patch.PatchType.StrategicMergePatch), "web", "deploy-recreate");
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedReplicaSetAsync(old.Metadata.Name, "deploy-recreate")).Metadata.Annotations[DeploymentController.RevisionAnnotation] == "3", "the old replicaset is revision 3");
        Assert.Equal("1", (await _client.AppsV1.ReadNamespacedReplicaSetAsync(old.Metadata.Name, "deploy-recreate")).Metadata.Annotations[DeploymentController.RevisionHistoryAnnotation]);
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("deploy-recreate")).Items is { Count: 2 } pods && pods.All(p => p.Spec.Containers[0].Image == "busybox:1.36"), "the old image runs again");
        Assert.Equal(2, (await SetsAsync("deploy-recreate")).Count);
    }

    [Fact]
    public async Task RollingUpdate_NoPodBecomesAvailable_StopsAtMaxSurgeAndKeepsTheOld()
    {
        await _client.CreateNamespaceAsync("deploy-rolling");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 4), "deploy-rolling");
        await EventuallyAsync(async () => (await SetsAsync("deploy-rolling")).Count == 1 && (await _client.CoreV1.ListNamespacedPodAsync("deploy-rolling")).Items.Count == 4, "4 pods of revision 1");
        var image = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.37\"}]}}}}";
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(image, V1Patch.PatchType.StrategicMergePatch), "web", "deploy-rolling");
        await EventuallyAsync(async () => (await SetsAsync("deploy-rolling")).Count == 2, "a second replicaset exists");

        // 25 % of 4: one pod of surge, one unavailable. No pod ever becomes available here, so kube's
        // arithmetic ends with the new set at 2 and the old at 3 (its unhealthy pods may go; no more).
        static (int New, int Old) Split(List<V1ReplicaSet> sets) =>
            (sets.Where(rs => rs.Metadata.Annotations[DeploymentController.RevisionAnnotation] == "2").Sum(rs => rs.Spec.Replicas ?? 0),
             sets.Where(rs => rs.Metadata.Annotations[DeploymentController.RevisionAnnotation] == "1").Sum(rs => rs.Spec.Replicas ?? 0));
        await EventuallyAsync(async () => Split(await SetsAsync("deploy-rolling")) == (2, 3), "the rollout reaches new 2 / old 3");
        await Task.Delay(500);
        Assert.Equal((2, 3), Split(await SetsAsync("deploy-rolling")));
        var progressing = (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "deploy-rolling")).Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal("True", progressing.Status);
        Assert.Equal("ReplicaSetUpdated", progressing.Reason);
    }
}
