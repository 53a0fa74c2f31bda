using k8s;
using k8s.Models;
using static Lotse.Scheduler.Tests.SchedulerFixture;

namespace Lotse.Scheduler.Tests;

public sealed class SchedulerTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    private readonly Kubernetes _client = fixture.Client;

    private async Task<V1Pod> ReadAsync(string name) => await _client.CoreV1.ReadNamespacedPodAsync(name, "default");

    private async Task<List<Corev1Event>> EventsAsync(string pod) =>
        [.. (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.Where(e => e.InvolvedObject.Name == pod)];

    [Fact]
    public async Task Pods_AreBoundWhereTheyFit_WithEvents_AndWaitWhenNothingFits()
    {
        await fixture.NodeAsync("small", cpu: "1");
        await fixture.NodeAsync("tainted", cpu: "8", taints: [new V1Taint { Key = "dedicated", Value = "infra", Effect = "NoSchedule" }]);
        await fixture.NodeAsync("cordoned", cpu: "8", unschedulable: true);

        await _client.CoreV1.CreateNamespacedPodAsync(Pod("fits", cpu: "500m"), "default");
        await EventuallyAsync(async () => (await ReadAsync("fits")).Spec.NodeName == "small", "the pod is bound to the only node it fits");
        await EventuallyAsync(async () => (await EventsAsync("fits")).Any(e => e.Reason == "Scheduled"), "a Scheduled event");
        var scheduled = (await EventsAsync("fits")).Single(e => e.Reason == "Scheduled");
        Assert.Equal(("Normal", "Successfully assigned default/fits to small", "default-scheduler"), (scheduled.Type, scheduled.Message, scheduled.Source.Component));

        await _client.CoreV1.CreateNamespacedPodAsync(Pod("big", cpu: "2"), "default");
        await EventuallyAsync(async () => (await EventsAsync("big")).Any(e => e.Reason == "FailedScheduling"), "a FailedScheduling event");
        var failed = (await EventsAsync("big")).First(e => e.Reason == "FailedScheduling");
        Assert.Equal("Warning", failed.Type);
        Assert.Equal(
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) were unschedulable. "
            + "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
            failed.Message);
        await EventuallyAsync(async () => (await ReadAsync("big")).Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true, "PodScheduled=False");
        Assert.Null((await ReadAsync("big")).Spec.NodeName);

        // A node that fits arrives: the waiting pod is scheduled without waiting for its back-off.
        await fixture.NodeAsync("large", cpu: "4");
        await EventuallyAsync(async () => (await ReadAsync("big")).Spec.NodeName == "large", "the waiting pod lands on the new node");
    }

    [Fact]
    public async Task NodeSelector_And_OtherSchedulers_AreRespected()
    {
        await fixture.NodeAsync("ssd-node", labels: new Dictionary<string, string> { ["disk"] = "ssd" });
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("wants-ssd", nodeSelector: new Dictionary<string, string> { ["disk"] = "ssd" }), "default");
        await EventuallyAsync(async () => (await ReadAsync("wants-ssd")).Spec.NodeName == "ssd-node", "the pod goes to the labelled node");

        var foreign = Pod("foreign");
        foreign.Spec.SchedulerName = "someone-else";
        await _client.CoreV1.CreateNamespacedPodAsync(foreign, "default");
        await Task.Delay(500);
        Assert.Null((await ReadAsync("foreign")).Spec.NodeName);
    }
}

public sealed class SpreadTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    [Fact]
    public async Task ThirtyPods_OverThreeEqualNodes_SpreadEvenly_WithoutOverbooking()
    {
        foreach (var name in new[] { "n1", "n2", "n3" })
        {
            await fixture.NodeAsync(name, cpu: "10", pods: 10);
        }

        var client = fixture.Client;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => client.CoreV1.CreateNamespacedPodAsync(Pod($"p{i}", cpu: "900m"), "default")));
        await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("default")).Items.Count(p => p.Spec.NodeName is not null) == 30, "30 pods are bound");
        await Task.Delay(300);
        var pods = (await client.CoreV1.ListNamespacedPodAsync("default")).Items;
        Assert.Equal(30, pods.Count(p => p.Spec.NodeName is not null)); // 10 pods per node at most: 2 wait
        Assert.All(pods.Where(p => p.Spec.NodeName is not null).GroupBy(p => p.Spec.NodeName), g => Assert.Equal(10, g.Count()));
    }
}

public sealed class BestEffortSpreadTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    [Fact]
    public async Task PodsWithoutRequests_SpreadOverEqualNodes()
    {
        foreach (var name in new[] { "e1", "e2", "e3" })
        {
            await fixture.NodeAsync(name);
        }

        var client = fixture.Client;
        await Task.WhenAll(Enumerable.Range(0, 9).Select(i => client.CoreV1.CreateNamespacedPodAsync(Pod($"b{i}"), "default")));
        await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("default")).Items.All(p => p.Spec.NodeName is not null), "all pods are bound");
        var pods = (await client.CoreV1.ListNamespacedPodAsync("default")).Items;
        Assert.All(pods.GroupBy(p => p.Spec.NodeName), g => Assert.Equal(3, g.Count()));
    }
}
