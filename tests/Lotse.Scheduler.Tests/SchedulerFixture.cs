using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Scheduler.Tests;

/// <summary>The real API server in-process with the scheduler running against it; nodes are plain API objects here.</summary>
public sealed class SchedulerFixture : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Kubernetes? _client;
    private Kubernetes? _loopClient;
    private Scheduler? _scheduler;
    private Task? _run;

    public ApiServerFixture Server { get; } = new();

    public Kubernetes Client => _client!;

    public Scheduler Scheduler => _scheduler!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        _client = Server.Kubernetes();
        _loopClient = Server.Kubernetes();
        var informers = new InformerFactory(_loopClient, NullLoggerFactory.Instance);
        _scheduler = new Scheduler(informers, NullLoggerFactory.Instance);
        _run = Task.WhenAll(_scheduler.RunAsync(_stop.Token), informers.RunAsync(_stop.Token));
        await Task.WhenAll(informers.All.Select(i => i.Synced)).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        await Server.DisposeAsync();
    }

    public void Dispose()
    {
        _scheduler?.Dispose();
        _client?.Dispose();
        _loopClient?.Dispose();
        _stop.Dispose();
    }

    public async Task NodeAsync(string name, string cpu = "4", string memory = "8Gi", int pods = 110, Dictionary<string, string>? labels = null, V1Taint[]? taints = null, bool unschedulable = false)
    {
        await Client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
            Spec = new V1NodeSpec { Taints = taints, Unschedulable = unschedulable },
        });
        var status = new System.Text.Json.Nodes.JsonObject
        {
            ["status"] = new System.Text.Json.Nodes.JsonObject
            {
                ["allocatable"] = new System.Text.Json.Nodes.JsonObject { ["cpu"] = cpu, ["memory"] = memory, ["pods"] = pods.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["capacity"] = new System.Text.Json.Nodes.JsonObject { ["cpu"] = cpu, ["memory"] = memory, ["pods"] = pods.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            },
        };
        await Client.CoreV1.PatchNodeStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), name);
    }

    public static V1Pod Pod(string name, string? cpu = null, Dictionary<string, string>? nodeSelector = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec
        {
            NodeSelector = nodeSelector,
            Containers =
            [
                new V1Container
                {
                    Name = "c",
                    Image = "busybox",
                    Resources = cpu is null ? null : new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) } },
                },
            ],
        },
    };

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}
