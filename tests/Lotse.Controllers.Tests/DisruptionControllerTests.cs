using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Controllers.Disruption;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class DisruptionControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Theory]
    [InlineData("25%", 5, 2)]
    [InlineData("50%", 3, 2)]
    [InlineData("0%", 7, 0)]
    [InlineData("100%", 4, 4)]
    public void Percentages_AreScaledRoundingUp(string value, int total, int expected) =>
        Assert.Equal(expected, DisruptionController.Scaled(value, total));

    [Fact]
    public void AnInteger_IsTakenAsIs() => Assert.Equal(3, DisruptionController.Scaled(3, 10));

    [Fact]
    public async Task MinAvailable_CountsHealthyPods_AndTheEvictionApiSpendsWhatIsAllowed()
    {
        await _client.CreateNamespaceAsync("pdb-min");
        foreach (var name in (string[])["a", "b", "c"])
        {
            await PodAsync("pdb-min", name, ready: true);
        }

        await BudgetAsync("pdb-min", new V1PodDisruptionBudgetSpec { MinAvailable = 2, Selector = Selector("db") });
        var status = await StatusEventuallyAsync("pdb-min", s => s.DisruptionsAllowed == 1);
        Assert.Equal((3, 3, 2, 1L), (status.ExpectedPods, status.CurrentHealthy, status.DesiredHealthy, status.ObservedGeneration ?? 0));
        var condition = status.Conditions.Single(c => c.Type == "DisruptionAllowed");
        Assert.Equal(("True", "SufficientPods"), (condition.Status, condition.Reason));

        // One pod turns unready: nothing may go now, and the eviction API says so.
        await PodStatusAsync("pdb-min", "c", ready: false);
        status = await StatusEventuallyAsync("pdb-min", s => s.CurrentHealthy == 2);
        Assert.Equal(0, status.DisruptionsAllowed);
        Assert.Equal(("False", "InsufficientPods"), (status.Conditions.Single().Status, status.Conditions.Single().Reason));
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => EvictAsync("pdb-min", "a"));
        Assert.Equal((HttpStatusCode)429, refused.Response.StatusCode);

        // Ready again: one eviction is granted; once the pod is gone its record is dropped.
        await PodStatusAsync("pdb-min", "c", ready: true);
        await StatusEventuallyAsync("pdb-min", s => s.DisruptionsAllowed == 1);
        await EvictAsync("pdb-min", "a");
        status = await StatusEventuallyAsync("pdb-min", s => s.ExpectedPods == 2);
        Assert.Equal((2, 2, 0), (status.CurrentHealthy, status.DesiredHealthy, status.DisruptionsAllowed));
        Assert.True(status.DisruptedPods is null || status.DisruptedPods.Count == 0);
    }

    [Fact]
    public async Task MaxUnavailable_IsTakenOfTheControllersScale()
    {
        await _client.CreateNamespaceAsync("pdb-max");
        await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("db", 4), "pdb-max");
        await BudgetAsync("pdb-max", new V1PodDisruptionBudgetSpec { MaxUnavailable = "50%", Selector = Selector("db") });

        // Four pods expected, two must stay healthy; none is ready yet.
        var status = await StatusEventuallyAsync("pdb-max", s => s.ExpectedPods == 4);
        Assert.Equal((2, 0, 0), (status.DesiredHealthy, status.CurrentHealthy, status.DisruptionsAllowed));

        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("pdb-max")).Items.Count == 4, "the ReplicaSet made its pods");
        foreach (var pod in (await _client.CoreV1.ListNamespacedPodAsync("pdb-max")).Items)
        {
            await PodStatusAsync("pdb-max", pod.Metadata.Name, ready: true);
        }

        status = await StatusEventuallyAsync("pdb-max", s => s.CurrentHealthy == 4);
        Assert.Equal(2, status.DisruptionsAllowed);
    }

    [Fact]
    public async Task APercentageOverPodsWithoutAController_FailsSafe()
    {
        await _client.CreateNamespaceAsync("pdb-bare");
        await PodAsync("pdb-bare", "lonely", ready: true);
        await BudgetAsync("pdb-bare", new V1PodDisruptionBudgetSpec { MinAvailable = "50%", Selector = Selector("db") });
        var status = await StatusEventuallyAsync("pdb-bare", s => s.Conditions?.Any(c => c.Reason == "SyncFailed") == true);
        Assert.Equal(0, status.DisruptionsAllowed);
        Assert.Equal("found no controller ref for pod \"lonely\"", status.Conditions.Single().Message);
    }

    private static V1LabelSelector Selector(string app) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = app } };

    private Task BudgetAsync(string ns, V1PodDisruptionBudgetSpec spec) =>
        _client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget { Metadata = new V1ObjectMeta { Name = "budget" }, Spec = spec }, ns);

    private async Task<V1PodDisruptionBudgetStatus> StatusEventuallyAsync(string ns, Func<V1PodDisruptionBudgetStatus, bool> done)
    {
        V1PodDisruptionBudgetStatus? status = null;
        await EventuallyAsync(async () =>
        {
            status = (await _client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("budget", ns)).Status;
            return status is not null && done(status);
        }, $"the budget in {ns} reaches the expected status");
        return status!;
    }

    private async Task PodAsync(string ns, string name, bool ready)
    {
        await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = "db" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox" }] },
        }, ns);
        await PodStatusAsync(ns, name, ready);
    }

    private Task PodStatusAsync(string ns, string name, bool ready)
    {
        var status = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
            },
        }.ToJsonString();
        return _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), name, ns);
    }

    private Task EvictAsync(string ns, string pod) =>
        _client.CoreV1.CreateNamespacedPodEvictionAsync(new V1Eviction { Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = ns } }, pod, ns);
}
