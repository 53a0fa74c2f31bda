using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class GarbageCollectorTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private async Task<string> ReplicaSetWithPodsAsync(string ns)
    {
        await _client.CreateNamespaceAsync(ns);
        var rs = await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("web", 2), ns);
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync(ns)).Items.Count == 2, "2 pods exist");
        return rs.Metadata.Uid;
    }

    [Fact]
    public async Task Background_DependentsAreDeletedAfterTheOwner()
    {
        await ReplicaSetWithPodsAsync("gc-background");
        await _client.AppsV1.DeleteNamespacedReplicaSetAsync("web", "gc-background", new V1DeleteOptions { PropagationPolicy = "Background" });
        Assert.True(await Helpers.IsGoneAsync(() => _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "gc-background")));
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("gc-background")).Items.Count == 0, "the pods are collected");
    }

    [Fact]
    public async Task Foreground_OwnerStaysUntilItsDependentsAreGone()
    {
        await ReplicaSetWithPodsAsync("gc-foreground");
        await _client.AppsV1.DeleteNamespacedReplicaSetAsync("web", "gc-foreground", new V1DeleteOptions { PropagationPolicy = "Foreground" });
        var deleting = await _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "gc-foreground");
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", deleting.Metadata.Finalizers);
        await EventuallyAsync(() => Helpers.IsGoneAsync(() => _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "gc-foreground")), "the owner is gone");
        Assert.Empty((await _client.CoreV1.ListNamespacedPodAsync("gc-foreground")).Items);
    }

    [Fact]
    public async Task Orphan_DependentsStayWithoutTheReference()
    {
        await ReplicaSetWithPodsAsync("gc-orphan");
        await _client.AppsV1.DeleteNamespacedReplicaSetAsync("web", "gc-orphan", new V1DeleteOptions { PropagationPolicy = "Orphan" });
        await EventuallyAsync(() => Helpers.IsGoneAsync(() => _client.AppsV1.ReadNamespacedReplicaSetAsync("web", "gc-orphan")), "the owner is gone");
        var pods = (await _client.CoreV1.ListNamespacedPodAsync("gc-orphan")).Items;
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.True(p.Metadata.OwnerReferences is null or { Count: 0 }));
    }

    [Fact]
    public async Task DanglingReference_ToAMissingOwner_CollectsTheDependent_ButAnotherLiveOwnerKeepsIt()
    {
        await _client.CreateNamespaceAsync("gc-dangling");
        var live = await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("live", 0), "gc-dangling");
        V1OwnerReference Missing() => new() { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "never-was", Uid = "00000000-0000-0000-0000-000000000001" };
        V1Pod Pod(string name, params V1OwnerReference[] owners) => new() { Metadata = new V1ObjectMeta { Name = name, OwnerReferences = owners }, Spec = Helpers.Template("x").Spec };
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("lonely", Missing()), "gc-dangling");
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("shared", Missing(), new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "live", Uid = live.Metadata.Uid }), "gc-dangling");

        await EventuallyAsync(() => Helpers.IsGoneAsync(() => _client.CoreV1.ReadNamespacedPodAsync("lonely", "gc-dangling")), "the pod whose only owner never existed is collected");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("shared", "gc-dangling")).Metadata.OwnerReferences.Count == 1, "the dangling reference is removed");
        Assert.Equal(live.Metadata.Uid, (await _client.CoreV1.ReadNamespacedPodAsync("shared", "gc-dangling")).Metadata.OwnerReferences.Single().Uid);
    }
}
