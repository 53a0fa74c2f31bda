using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Controllers.DaemonSet;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class DaemonSetControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private static V1DaemonSet Set(string name, string? nodeLabel = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    NodeSelector = new Dictionary<string, string> { ["ds-test"] = nodeLabel ?? name },
                    Containers = [new V1Container { Name = "c", Image = "busybox:1.36" }],
                },
            },
        },
    };

    private async Task NodeAsync(string name, string label, V1Taint? taint = null) =>
        await _client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["ds-test"] = label } },
            Spec = new V1NodeSpec { Taints = taint is null ? null : [taint] },
        });

    private async Task<List<V1Pod>> PodsAsync(string ns) =>
        [.. (await _client.CoreV1.ListNamespacedPodAsync(ns)).Items.Where(p => p.Metadata.DeletionTimestamp is null)];

    private static string Target(V1Pod pod) => DaemonPlacement.TargetNode(pod) ?? "?";

    private async Task<string> TargetsAsync(string ns) => string.Join(",", (await PodsAsync(ns)).Select(Target).Order(StringComparer.Ordinal));

    [Fact]
    public async Task OnePodPerEligibleNode_SkipsTaintedNodes_FollowsNewNodes()
    {
        const string ns = "ds-cover";
        await _client.CreateNamespaceAsync(ns);
        await NodeAsync("ds-cover-a", "cover");
        await NodeAsync("ds-cover-b", "cover", new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" });
        await NodeAsync("ds-cover-c", "cover", new V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" });
        await NodeAsync("ds-other", "other");
        await _client.AppsV1.CreateNamespacedDaemonSetAsync(Set("agent", "cover"), ns);

        await EventuallyAsync(async () => await TargetsAsync(ns) == "ds-cover-a,ds-cover-c", "a pod for the untainted and the cordoned node");
        var pod = (await PodsAsync(ns)).First();
        Assert.StartsWith("agent-", pod.Metadata.Name, StringComparison.Ordinal);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/not-ready" && t.Effect == "NoExecute" && t.OperatorProperty == "Exists");
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule");
        Assert.True(pod.Metadata.Labels.ContainsKey("controller-revision-hash"));

        await NodeAsync("ds-cover-d", "cover");
        await EventuallyAsync(async () => await TargetsAsync(ns) == "ds-cover-a,ds-cover-c,ds-cover-d", "a new node gets its pod");
        await EventuallyAsync(
            async () => (await _client.AppsV1.ReadNamespacedDaemonSetAsync("agent", ns)).Status is { DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberMisscheduled: 0 },
            "the status counts three nodes");

        // A node that stops matching loses its pod.
        await _client.CoreV1.PatchNodeAsync(new V1Patch("""{"metadata":{"labels":{"ds-test":"none"}}}""", V1Patch.PatchType.MergePatch), "ds-cover-d");
        await EventuallyAsync(async () => await TargetsAsync(ns) == "ds-cover-a,ds-cover-c", "the pod leaves the node that no longer matches");
    }

    [Fact]
    public async Task RollingUpdate_ReplacesPodsWithinMaxUnavailable()
    {
        const string ns = "ds-roll";
        await _client.CreateNamespaceAsync(ns);
        await NodeAsync("ds-roll-a", "roll");
        await NodeAsync("ds-roll-b", "roll");
        await _client.AppsV1.CreateNamespacedDaemonSetAsync(Set("logger", "roll"), ns);
        await EventuallyAsync(async () => (await PodsAsync(ns)).Count == 2, "two daemon pods");
        foreach (var pod in await PodsAsync(ns))
        {
            await _client.CoreV1.PatchNamespacedPodStatusAsync(
                new V1Patch(new JsonObject { ["status"] = new JsonObject { ["phase"] = "Running", ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }) } }.ToJsonString(), V1Patch.PatchType.MergePatch),
                pod.Metadata.Name,
                ns);
        }

        await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedDaemonSetAsync("logger", ns)).Status.NumberAvailable == 2, "both available");
        var old = (await PodsAsync(ns)).Select(p => p.Metadata.Uid).ToHashSet();
        await _client.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch("""{"spec":{"template":{"metadata":{"labels":{"version":"2"}}}}}""", V1Patch.PatchType.MergePatch), "logger", ns);

        // maxUnavailable 1: one old pod goes and is replaced; the other stays while the new one is not available.
        await EventuallyAsync(async () => (await PodsAsync(ns)).Count(p => !old.Contains(p.Metadata.Uid)) == 1, "one pod is replaced");
        await Task.Delay(300);
        var pods = await PodsAsync(ns);
        Assert.Equal(1, pods.Count(p => old.Contains(p.Metadata.Uid)));
        Assert.Equal("2", pods.Single(p => !old.Contains(p.Metadata.Uid)).Metadata.Labels["version"]);
        Assert.Equal(2, (await _client.AppsV1.ListNamespacedControllerRevisionAsync(ns)).Items.Count);
    }
}
