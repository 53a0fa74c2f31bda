using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Lotse.Agent.Hollow;
using Lotse.Benchmarks.Api;
using Lotse.Client.Informers;
using Lotse.Controllers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Benchmarks.Controllers;

/// <summary>
/// The control loops at scale on hollow nodes (the control-loops issue): the API server, controller
/// manager and scheduler in-process, N hollow nodes, then D Deployments of R replicas each — the time
/// until every replica is available, a rolling update of all of them (new image) until done, and the
/// process's memory with everything running.
/// </summary>
internal static class ControllersHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var nodes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        var replicas = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var deployments = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        Console.WriteLine($"controllers benchmark: {nodes} hollow nodes, {deployments} deployment(s) x {replicas} replicas, {Environment.ProcessorCount} cores, API server in-process over SQLite");

        await using var server = await BenchServer.StartAsync();
        using var client = server.Client();
        using var hollowClient = server.Client();
        using var loopClient = server.Client();
        using var stop = new CancellationTokenSource();
        using var hollow = new HollowNodeSet(hollowClient, new HollowNodeOptions { Count = nodes, Pods = 110, LeaseInterval = TimeSpan.FromSeconds(30), PodStartDelay = TimeSpan.FromMilliseconds(5) }, NullLoggerFactory.Instance);
        var informers = new InformerFactory(loopClient, NullLoggerFactory.Instance);
        using var warnings = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        using var manager = new ControllerManager(informers, "-----BEGIN CERTIFICATE-----\nBENCH\n-----END CERTIFICATE-----\n", warnings);
        using var scheduler = new Lotse.Scheduler.Scheduler(informers, NullLoggerFactory.Instance);
        var run = Task.WhenAll(hollow.RunAsync(stop.Token), manager.RunAsync(stop.Token), scheduler.RunAsync(stop.Token), informers.RunAsync(stop.Token));

        var clock = Stopwatch.StartNew();
        while ((await client.CoreV1.ListNodeAsync()).Items.Count < nodes)
        {
            await Task.Delay(200);
        }

        Console.WriteLine($"nodes registered in {clock.Elapsed.TotalSeconds:F1} s");
        await Task.WhenAll(informers.All.Select(i => i.Synced));

        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, deployments).Select(i => client.AppsV1.CreateNamespacedDeploymentAsync(Deployment($"bench-{i}", replicas, "nginx:1.27"), "default")));
        await UntilAsync(client, deployments, replicas, generation: 1, TimeSpan.FromMinutes(15));
        var up = clock.Elapsed;
        var memoryUp = Memory();
        var total = deployments * replicas;
        Console.WriteLine($"all {total} available in {up.TotalSeconds:F1} s ({total / up.TotalSeconds:F0} pods/s); process {memoryUp.Process} MB, GC heap {memoryUp.Heap} MB");

        clock.Restart();
        var patch = new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}""", V1Patch.PatchType.StrategicMergePatch);
        await Task.WhenAll(Enumerable.Range(0, deployments).Select(i => client.AppsV1.PatchNamespacedDeploymentAsync(patch, $"bench-{i}", "default")));
        await UntilAsync(client, deployments, replicas, generation: 2, TimeSpan.FromMinutes(15));
        var rolled = clock.Elapsed;

        Console.WriteLine("nodes  pods   all available s  pods/s  rolling update s  pods/s  process MB  GC heap MB");
        Console.WriteLine($"{nodes,5}  {total,5}  {up.TotalSeconds,15:F1}  {total / up.TotalSeconds,6:F0}  {rolled.TotalSeconds,16:F1}  {total / rolled.TotalSeconds,6:F0}  {memoryUp.Process,10}  {memoryUp.Heap,10}");
        await stop.CancelAsync();
        await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return 0;
    }

    private static (long Process, long Heap) Memory()
    {
        GC.Collect();
        return (Process.GetCurrentProcess().WorkingSet64 / (1024 * 1024), GC.GetTotalMemory(forceFullCollection: true) / (1024 * 1024));
    }

    /// <summary>Waits until every deployment observed <paramref name="generation"/> and has all replicas updated and available, nothing else left.</summary>
    private static async Task UntilAsync(Kubernetes client, int deployments, int replicas, int generation, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var list = (await client.AppsV1.ListNamespacedDeploymentAsync("default")).Items.Where(d => d.Metadata.Name.StartsWith("bench-", StringComparison.Ordinal)).ToList();
            if (list.Count == deployments && list.All(d => d.Status is { } s && s.ObservedGeneration >= generation && s.UpdatedReplicas == replicas && s.AvailableReplicas == replicas && s.Replicas == replicas))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"deployments not done within {limit}: {string.Join("; ", list.Select(d => $"{d.Metadata.Name} updated {d.Status?.UpdatedReplicas} available {d.Status?.AvailableReplicas} replicas {d.Status?.Replicas}"))}");
            }

            if ((int)(limit - (deadline - DateTime.UtcNow)).TotalSeconds % 10 == 0)
            {
                // Deployments and sets only: listing every pod would load the server more than the run itself.
                Console.WriteLine($"  {string.Join("; ", list.Select(d => $"{d.Metadata.Name} updated {d.Status?.UpdatedReplicas} available {d.Status?.AvailableReplicas} replicas {d.Status?.Replicas}"))}; sets {string.Join(",", (await client.AppsV1.ListNamespacedReplicaSetAsync("default")).Items.Select(r => $"{r.Metadata.Name}={r.Spec.Replicas}/{r.Status?.Replicas} rev {r.Metadata.Annotations?["deployment.kubernetes.io/revision"]}"))}");
            }

            await Task.Delay(250);
        }
    }

    private static V1Deployment Deployment(string name, int replicas, string image) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = image, Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("10Mi") } } }] },
            },
        },
    };
}
