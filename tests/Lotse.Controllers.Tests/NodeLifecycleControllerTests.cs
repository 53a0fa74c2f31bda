using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.NodeLifecycle;
using Microsoft.Extensions.Logging.Abstractions;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

/// <summary>
/// The node lifecycle controller with short durations beside the fixture's (kube's 40 s grace): a silent
/// node goes Unknown and tainted, its pods not ready and evicted after their tolerations; a kubelet that
/// comes back clears it.
/// </summary>
[Collection(ControllersGroup.Name)]
public sealed class NodeLifecycleControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task ASilentNode_GoesUnknown_IsTaintedUnreachable_AndItsPodsAreEvictedAfterTheirTolerations()
    {
        await NodeAsync("life-a", ready: "True");
        await PodAsync("patient", "life-a", tolerations: null); // admission gives it 300 s
        await PodAsync("brief", "life-a", [new V1Toleration { Key = NodeLifecycleController.UnreachableTaint, OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 1 }]);
        await PodAsync("forever", "life-a", [new V1Toleration { Key = NodeLifecycleController.UnreachableTaint, OperatorProperty = "Exists", Effect = "NoExecute" }]);

        using var stop = new CancellationTokenSource();
        var run = RunControllerAsync(stop.Token);
        try
        {
            await EventuallyAsync(async () => Ready(await _client.CoreV1.ReadNodeAsync("life-a"))?.Status == "Unknown", "the silent node is Unknown");
            var node = await _client.CoreV1.ReadNodeAsync("life-a");
            Assert.All(node.Status.Conditions.Where(c => c.Type is "Ready" or "MemoryPressure"), c => Assert.Equal(("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."), (c.Status, c.Reason, c.Message)));

            // Conditions the kubelet never posted are added as kube adds them.
            var never = node.Status.Conditions.Single(c => c.Type == "DiskPressure");
            Assert.Equal(("Unknown", "NodeStatusNeverUpdated", "Kubelet never posted node status."), (never.Status, never.Reason, never.Message));
            await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-a")).Count == 2, "the node is tainted unreachable");
            node = await _client.CoreV1.ReadNodeAsync("life-a");
            Assert.Equal([$"{NodeLifecycleController.UnreachableTaint}:NoExecute", $"{NodeLifecycleController.UnreachableTaint}:NoSchedule"], Taints(node));
            Assert.NotNull(node.Spec.Taints.Single(t => t.Effect == "NoExecute").TimeAdded);

            await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("brief", "default")).Metadata.DeletionTimestamp is not null, "the pod tolerating 1 s is evicted");
            var brief = await _client.CoreV1.ReadNamespacedPodAsync("brief", "default");
            var target = brief.Status.Conditions.Single(c => c.Type == "DisruptionTarget");
            Assert.Equal(("True", "DeletionByTaintManager"), (target.Status, target.Reason));
            foreach (var name in (string[])["patient", "forever"])
            {
                var pod = await _client.CoreV1.ReadNamespacedPodAsync(name, "default");
                Assert.Null(pod.Metadata.DeletionTimestamp);
                Assert.Equal("False", pod.Status.Conditions.Single(c => c.Type == "Ready").Status);
            }

            // The kubelet posts again: conditions are its own, the taints go.
            await PostStatusAsync("life-a", "True");
            await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-a")).Count == 0, "the taints are removed");
        }
        finally
        {
            await stop.CancelAsync();
            await run;
            foreach (var pod in (string[])["patient", "brief", "forever"])
            {
                await _client.CoreV1.DeleteNamespacedPodAsync(pod, "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
            }

            await _client.CoreV1.DeleteNodeAsync("life-a");
        }
    }

    [Fact]
    public async Task Conditions_AndCordoning_BecomeTaints()
    {
        await NodeAsync("life-b", ready: "False");
        await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-b")).Count == 2, "a not-ready node is tainted");
        Assert.Equal([$"{NodeLifecycleController.NotReadyTaint}:NoExecute", $"{NodeLifecycleController.NotReadyTaint}:NoSchedule"], Taints(await _client.CoreV1.ReadNodeAsync("life-b")));

        await PostStatusAsync("life-b", "True", memoryPressure: "True");
        await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-b")).SequenceEqual(["node.kubernetes.io/memory-pressure:NoSchedule"]), "memory pressure is the only taint");

        await _client.CoreV1.PatchNodeAsync(new V1Patch("""{"spec":{"unschedulable":true}}""", V1Patch.PatchType.MergePatch), "life-b");
        await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-b")).Contains("node.kubernetes.io/unschedulable:NoSchedule"), "a cordoned node is tainted unschedulable");

        // Taints of others are left alone.
        var node = await _client.CoreV1.ReadNodeAsync("life-b");
        node.Spec.Taints.Add(new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" });
        await _client.CoreV1.ReplaceNodeAsync(node, "life-b");
        await PostStatusAsync("life-b", "True");
        await EventuallyAsync(async () => Taints(await _client.CoreV1.ReadNodeAsync("life-b")).SequenceEqual(["dedicated:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"]), "only the pressure taint went");
        await _client.CoreV1.DeleteNodeAsync("life-b");
    }

    /// <summary>A second controller with short durations (the fixture's uses kube's 40 s); both agree on taints.</summary>
    private async Task RunControllerAsync(CancellationToken cancellationToken)
    {
        var informers = new InformerFactory(fixture.Client, NullLoggerFactory.Instance);
        using var controller = new NodeLifecycleController(informers, NullLoggerFactory.Instance, options: new NodeLifecycleOptions
        {
            GracePeriod = TimeSpan.FromSeconds(2),
            MonitorPeriod = TimeSpan.FromMilliseconds(200),
        });
        try
        {
            await Task.WhenAll(informers.RunAsync(cancellationToken), controller.RunAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static V1NodeCondition? Ready(V1Node node) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");

    private static List<string> Taints(V1Node node) => [.. (node.Spec?.Taints ?? []).Select(t => $"{t.Key}:{t.Effect}").Order(StringComparer.Ordinal)];

    private async Task NodeAsync(string name, string ready)
    {
        await _client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name } });
        await PostStatusAsync(name, ready);
    }

    private Task PostStatusAsync(string name, string ready, string memoryPressure = "False")
    {
        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        JsonObject Condition(string type, string status) => new() { ["type"] = type, ["status"] = status, ["lastHeartbeatTime"] = now, ["lastTransitionTime"] = now, ["reason"] = "Test", ["message"] = "test" };
        var patch = new JsonObject { ["status"] = new JsonObject { ["conditions"] = new JsonArray(Condition("Ready", ready), Condition("MemoryPressure", memoryPressure)) } };
        return _client.CoreV1.PatchNodeStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name);
    }

    private async Task PodAsync(string name, string node, List<V1Toleration>? tolerations)
    {
        await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec { NodeName = node, Tolerations = tolerations, Containers = [new V1Container { Name = "c", Image = "busybox" }] },
        }, "default");
        var status = """{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}""";
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), name, "default");
    }
}
