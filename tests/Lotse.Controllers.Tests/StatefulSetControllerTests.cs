using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Controllers.StatefulSet;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class StatefulSetControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private static V1StatefulSet Set(string name, int replicas, string policy = "OrderedReady", int? partition = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1StatefulSetSpec
        {
            Replicas = replicas,
            ServiceName = name,
            PodManagementPolicy = policy,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = Helpers.Template(name),
            UpdateStrategy = partition is { } p ? new V1StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateStatefulSetStrategy { Partition = p } } : null,
            VolumeClaimTemplates =
            [
                new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = "data" },
                    Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } } },
                },
            ],
        },
    };

    private async Task<List<V1Pod>> PodsAsync(string ns) =>
        [.. (await _client.CoreV1.ListNamespacedPodAsync(ns)).Items.Where(p => p.Metadata.DeletionTimestamp is null).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)];

    private async Task<string> NamesAsync(string ns) => string.Join(",", (await PodsAsync(ns)).Select(p => p.Metadata.Name));

    private Task RunAsync(string ns, string name) =>
        _client.CoreV1.PatchNamespacedPodStatusAsync(
            new V1Patch(new JsonObject { ["status"] = new JsonObject { ["phase"] = "Running", ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }) } }.ToJsonString(), V1Patch.PatchType.MergePatch),
            name,
            ns);

    [Fact]
    public async Task OrderedReady_CreatesInOrder_WithClaims_AndScalesDownFromTheTop()
    {
        const string ns = "sts-ordered";
        await _client.CreateNamespaceAsync(ns);
        await _client.AppsV1.CreateNamespacedStatefulSetAsync(Set("web", 3), ns);

        await EventuallyAsync(async () => await NamesAsync(ns) == "web-0", "web-0 exists alone");
        var first = (await PodsAsync(ns)).Single();
        Assert.Equal("web-0", first.Spec.Hostname);
        Assert.Equal("web", first.Spec.Subdomain);
        Assert.Equal("web-0", first.Metadata.Labels[StatefulSetController.PodNameLabel]);
        Assert.Equal("0", first.Metadata.Labels[StatefulSetController.PodIndexLabel]);
        Assert.Equal("data-web-0", first.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        var claim = await _client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("data-web-0", ns);
        Assert.Equal("web", claim.Metadata.Labels["app"]);

        // web-1 waits until web-0 is Running and Ready.
        await Task.Delay(300);
        Assert.Equal("web-0", await NamesAsync(ns));
        await RunAsync(ns, "web-0");
        await EventuallyAsync(async () => await NamesAsync(ns) == "web-0,web-1", "web-1 follows web-0");
        await RunAsync(ns, "web-1");
        await EventuallyAsync(async () => await NamesAsync(ns) == "web-0,web-1,web-2", "web-2 follows web-1");
        await RunAsync(ns, "web-2");
        await EventuallyAsync(
            async () => (await _client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns)).Status is { ReadyReplicas: 3, Replicas: 3, UpdatedReplicas: 3 } s && s.CurrentRevision == s.UpdateRevision,
            "the status counts three ready pods at one revision");
        var status = (await _client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns)).Status;
        Assert.StartsWith("web-", status.UpdateRevision, StringComparison.Ordinal);
        var revisions = (await _client.AppsV1.ListNamespacedControllerRevisionAsync(ns)).Items;
        Assert.Equal(status.UpdateRevision, Assert.Single(revisions).Metadata.Name);
        Assert.Equal(1, revisions[0].Revision);

        await _client.AppsV1.PatchNamespacedStatefulSetScaleAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "web", ns);
        await EventuallyAsync(async () => await NamesAsync(ns) == "web-0", "scaled down to web-0");
        Assert.Equal(3, (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns)).Items.Count);
    }

    [Fact]
    public async Task RollingUpdate_ReplacesFromTheTopDownToThePartition_AndRecordsRevisions()
    {
        const string ns = "sts-rolling";
        await _client.CreateNamespaceAsync(ns);
        await _client.AppsV1.CreateNamespacedStatefulSetAsync(Set("db", 3, policy: "Parallel", partition: 1), ns);
        await EventuallyAsync(async () => await NamesAsync(ns) == "db-0,db-1,db-2", "Parallel creates every pod at once");
        foreach (var name in new[] { "db-0", "db-1", "db-2" })
        {
            await RunAsync(ns, name);
        }

        var before = (await PodsAsync(ns)).ToDictionary(p => p.Metadata.Name, p => p.Metadata.Uid);
        await _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"template":{"metadata":{"labels":{"version":"2"}}}}}""", V1Patch.PatchType.MergePatch), "db", ns);

        // db-2 is replaced first; db-1 only once the new db-2 is healthy; db-0 stays below the partition.
        await EventuallyAsync(async () => (await PodsAsync(ns)).Any(p => p.Metadata.Name == "db-2" && p.Metadata.Uid != before["db-2"]), "db-2 is recreated");
        var set = await _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns);
        Assert.Equal("2", (await _client.CoreV1.ReadNamespacedPodAsync("db-2", ns)).Metadata.Labels["version"]);
        Assert.Equal(before["db-1"], (await _client.CoreV1.ReadNamespacedPodAsync("db-1", ns)).Metadata.Uid);
        await RunAsync(ns, "db-2");
        await EventuallyAsync(async () => (await PodsAsync(ns)).Any(p => p.Metadata.Name == "db-1" && p.Metadata.Uid != before["db-1"]), "db-1 is recreated");
        await RunAsync(ns, "db-1");
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns)).Status.UpdatedReplicas == 2, "two pods run the update revision");
        await Task.Delay(300);
        Assert.Equal(before["db-0"], (await _client.CoreV1.ReadNamespacedPodAsync("db-0", ns)).Metadata.Uid);
        set = await _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns);
        Assert.NotEqual(set.Status.CurrentRevision, set.Status.UpdateRevision);
        Assert.Equal(1, set.Status.CurrentReplicas);
        var revisions = (await _client.AppsV1.ListNamespacedControllerRevisionAsync(ns)).Items.OrderBy(r => r.Revision).ToList();
        Assert.Equal([set.Status.CurrentRevision, set.Status.UpdateRevision], revisions.Select(r => r.Metadata.Name));

        // The partition drops to 0: db-0 follows, and the rollout completes.
        await _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}""", V1Patch.PatchType.MergePatch), "db", ns);
        await EventuallyAsync(async () => (await PodsAsync(ns)).Any(p => p.Metadata.Name == "db-0" && p.Metadata.Uid != before["db-0"]), "db-0 is recreated");
        await RunAsync(ns, "db-0");
        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns)).Status is { } s && s.CurrentRevision == s.UpdateRevision && s.CurrentReplicas == 3, "the rollout completes");
    }

    [Fact]
    public async Task FailedPod_IsReplacedUnderTheSameName()
    {
        const string ns = "sts-failed";
        await _client.CreateNamespaceAsync(ns);
        await _client.AppsV1.CreateNamespacedStatefulSetAsync(Set("q", 1), ns);
        await EventuallyAsync(async () => await NamesAsync(ns) == "q-0", "q-0 exists");
        var uid = (await PodsAsync(ns)).Single().Metadata.Uid;
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch("""{"status":{"phase":"Failed"}}""", V1Patch.PatchType.MergePatch), "q-0", ns);
        await EventuallyAsync(async () => (await PodsAsync(ns)).SingleOrDefault() is { } p && p.Metadata.Uid != uid && p.Status?.Phase != "Failed", "q-0 is recreated");
    }
}
