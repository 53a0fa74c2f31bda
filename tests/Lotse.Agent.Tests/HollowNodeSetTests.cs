using k8s;
using k8s.Models;
using Lotse.Agent.Hollow;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Agent.Tests;

public sealed class HollowNodeSetTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>, IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Kubernetes _client = null!;
    private Kubernetes _agentClient = null!;
    private HollowNodeSet _set = null!;
    private Task _run = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _client = server.Kubernetes();
        _agentClient = server.Kubernetes();
        _set = new HollowNodeSet(_agentClient, new HollowNodeOptions { Count = 3, LeaseInterval = TimeSpan.FromMilliseconds(300), Cpu = "2", Pods = 50 }, NullLoggerFactory.Instance);
        _run = _set.RunAsync(_stop.Token);
        await EventuallyAsync(async () => (await _client.CoreV1.ListNodeAsync()).Items.Count(n => n.Metadata.Name.StartsWith("hollow-node-", StringComparison.Ordinal)) == 3, "3 nodes registered");
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
    }

    public void Dispose()
    {
        _set.Dispose();
        _client.Dispose();
        _agentClient.Dispose();
        _stop.Dispose();
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    private static V1Pod Pod(string name, string node, string? exitCode = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Annotations = exitCode is null ? null : new Dictionary<string, string> { [HollowPodStatus.ExitCodeAnnotation] = exitCode } },
        Spec = new V1PodSpec { NodeName = node, RestartPolicy = exitCode is null ? null : "Never", Containers = [new V1Container { Name = "c", Image = "busybox:1.36" }] },
    };

    [Fact]
    public async Task Nodes_RegisterReadyWithCapacity_AndRenewLeases()
    {
        var node = await _client.CoreV1.ReadNodeAsync("hollow-node-1");
        Assert.Equal("true", node.Metadata.Labels[HollowNodeSet.HollowLabel]);
        Assert.Equal("hollow-node-1", node.Metadata.Labels["kubernetes.io/hostname"]);
        Assert.Equal(("True", "KubeletReady"), node.Status.Conditions.Where(c => c.Type == "Ready").Select(c => (c.Status, c.Reason)).Single());
        Assert.Equal("2", node.Status.Allocatable["cpu"].ToString());
        Assert.Equal("50", node.Status.Allocatable["pods"].ToString());
        Assert.Equal("100.127.0.1", node.Status.Addresses.Single(a => a.Type == "InternalIP").Address);

        await EventuallyAsync(async () => (await _client.CoordinationV1.ListNamespacedLeaseAsync("kube-node-lease")).Items.Count(l => l.Metadata.Name.StartsWith("hollow-node-", StringComparison.Ordinal)) == 3, "3 leases");
        var first = (await _client.CoordinationV1.ReadNamespacedLeaseAsync("hollow-node-0", "kube-node-lease")).Spec.RenewTime;
        await EventuallyAsync(async () => (await _client.CoordinationV1.ReadNamespacedLeaseAsync("hollow-node-0", "kube-node-lease")).Spec.RenewTime > first, "the lease is renewed");
    }

    [Fact]
    public async Task BoundPod_RunsReady_ThenDeletionIsConfirmed_OtherNodesLeftAlone()
    {
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("hollow-web", "hollow-node-1"), "default");
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("elsewhere", "real-node"), "default");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync("hollow-web", "default")).Status?.Phase == "Running", "the pod runs");
        var pod = await _client.CoreV1.ReadNamespacedPodAsync("hollow-web", "default");
        Assert.StartsWith("100.64.1.", pod.Status.PodIP, StringComparison.Ordinal);
        Assert.Equal("100.127.0.1", pod.Status.HostIP);
        Assert.Equal("BestEffort", pod.Status.QosClass);
        Assert.Equal("True", pod.Status.Conditions.Single(c => c.Type == "Ready").Status);
        var container = pod.Status.ContainerStatuses.Single();
        Assert.True(container.Ready);
        Assert.NotNull(container.State.Running);

        await _client.CoreV1.DeleteNamespacedPodAsync("hollow-web", "default");
        await EventuallyAsync(async () => !(await _client.CoreV1.ListNamespacedPodAsync("default")).Items.Any(p => p.Metadata.Name == "hollow-web"), "the deletion is confirmed");
        Assert.Null((await _client.CoreV1.ReadNamespacedPodAsync("elsewhere", "default")).Status?.PodIP);
    }

    [Theory]
    [InlineData("0", "Succeeded")]
    [InlineData("3", "Failed")]
    public async Task PodWithExitCode_Finishes(string code, string phase)
    {
        var name = $"job-{phase.ToLowerInvariant()}";
        await _client.CoreV1.CreateNamespacedPodAsync(Pod(name, "hollow-node-2", code), "default");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedPodAsync(name, "default")).Status?.Phase == phase, $"the pod ends {phase}");
        var terminated = (await _client.CoreV1.ReadNamespacedPodAsync(name, "default")).Status.ContainerStatuses.Single().State.Terminated;
        Assert.Equal(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), terminated.ExitCode);
    }
}
