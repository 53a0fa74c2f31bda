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

public sealed class PodAffinityTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task RequiredAntiAffinity_PutsReplicasOnDistinctNodes_AndTheSurplusWaits_UntilANodeJoins()
    {
        foreach (var name in (string[])["n1", "n2", "n3"])
        {
            await fixture.NodeAsync(name);
        }

        V1Pod Replica(string name)
        {
            var pod = Pod(name);
            pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "web" };
            pod.Spec.Affinity = new V1Affinity
            {
                PodAntiAffinity = new V1PodAntiAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution =
                    [
                        new V1PodAffinityTerm { LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } }, TopologyKey = "kubernetes.io/hostname" },
                    ],
                },
            };
            return pod;
        }

        for (var i = 0; i < 4; i++)
        {
            await _client.CoreV1.CreateNamespacedPodAsync(Replica($"web-{i}"), "default");
        }

        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("default")).Items.Count(p => p.Spec.NodeName is not null) == 3, "three replicas are bound");
        var pods = (await _client.CoreV1.ListNamespacedPodAsync("default")).Items;
        Assert.Equal(3, pods.Where(p => p.Spec.NodeName is not null).Select(p => p.Spec.NodeName).Distinct().Count());
        var waiting = pods.Single(p => p.Spec.NodeName is null).Metadata.Name;
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.Any(e => e.InvolvedObject.Name == waiting && e.Reason == "FailedScheduling"), "a FailedScheduling event");
        var failed = (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.First(e => e.InvolvedObject.Name == waiting && e.Reason == "FailedScheduling");
        Assert.Equal("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.", failed.Message);

        // A pod without the label is not kept away.
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("other"), "default");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("other", "default")).Spec.NodeName is not null, "an unrelated pod is bound");

        await fixture.NodeAsync("n4");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync(waiting, "default")).Spec.NodeName == "n4", "the waiting replica goes to the new node");
    }
}

public sealed class PreemptionTests(SchedulerFixture fixture) : IClassFixture<SchedulerFixture>
{
    private readonly Kubernetes _client = fixture.Client;

    private async Task<V1Pod> ReadAsync(string name) => await _client.CoreV1.ReadNamespacedPodAsync(name, "default");

    private async Task<List<Corev1Event>> EventsAsync(string pod) =>
        [.. (await _client.CoreV1.ListNamespacedEventAsync("default")).Items.Where(e => e.InvolvedObject.Name == pod)];

    [Fact]
    public async Task AHigherPriorityPod_EvictsALowerOne_AndTakesItsPlace()
    {
        await fixture.NodeAsync("only", cpu: "1");
        await _client.SchedulingV1.CreatePriorityClassAsync(new V1PriorityClass { Metadata = new V1ObjectMeta { Name = "high" }, Value = 1000 });
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("low", cpu: "800m"), "default");
        await EventuallyAsync(async () => (await ReadAsync("low")).Spec.NodeName == "only", "the low-priority pod is bound");

        // Never preempts: it just waits, and says why.
        var patient = Pod("patient", cpu: "800m");
        patient.Spec.PriorityClassName = "high";
        patient.Spec.PreemptionPolicy = "Never";
        await _client.CoreV1.CreateNamespacedPodAsync(patient, "default");
        await EventuallyAsync(async () => (await EventsAsync("patient")).Any(e => e.Reason == "FailedScheduling"), "the Never pod fails to schedule");
        Assert.Equal("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.", (await EventsAsync("patient")).First(e => e.Reason == "FailedScheduling").Message);
        await _client.CoreV1.DeleteNamespacedPodAsync("patient", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });

        var high = Pod("high", cpu: "800m");
        high.Spec.PriorityClassName = "high";
        var created = await _client.CoreV1.CreateNamespacedPodAsync(high, "default");
        Assert.Equal(1000, created.Spec.Priority);

        await EventuallyAsync(async () => (await ReadAsync("low")).Metadata.DeletionTimestamp is not null, "the low-priority pod is being deleted");
        var victim = await ReadAsync("low");
        Assert.Contains(victim.Status.Conditions, c => c.Type == "DisruptionTarget" && c.Reason == "PreemptionByScheduler" && c.Status == "True");
        await EventuallyAsync(async () => (await ReadAsync("high")).Status?.NominatedNodeName == "only", "the node is nominated for the preemptor");
        await EventuallyAsync(async () => (await EventsAsync("low")).Any(e => e.Reason == "Preempted" && e.Message == $"Preempted by pod {created.Metadata.Uid} on node only"), "a Preempted event on the victim");
        Assert.Null((await ReadAsync("high")).Spec.NodeName);

        // No kubelet here: finish the victim's deletion as one would; the preemptor then lands.
        await _client.CoreV1.DeleteNamespacedPodAsync("low", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
        await EventuallyAsync(async () => (await ReadAsync("high")).Spec.NodeName == "only", "the preemptor is bound to the freed node");
    }
}
