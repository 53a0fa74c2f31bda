using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Lotse.Benchmarks.Api;
using Lotse.Benchmarks.Storage;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Benchmarks.Scheduler;

/// <summary>
/// Scheduler throughput (the control-loops issue): N nodes as API objects, then P pods created by 64
/// clients while the scheduler binds them; pods/s from the first create to the last bind, beside the
/// API's create rate alone in the same run (the ceiling: a pod must exist before it is scheduled).
/// </summary>
internal static class SchedulerHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var nodeCounts = args.Length > 0 ? args[0].Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray() : [100, 1000, 5000];
        var podCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        Console.WriteLine($"scheduler benchmark: {podCount} pods, {Environment.ProcessorCount} cores, API server in-process over SQLite");
        Console.WriteLine("nodes  pods  create only pods/s  CPU µs/create  scheduled pods/s  CPU µs/pod  ratio  bind p50 ms  bind p99 ms  process MB");
        foreach (var nodes in nodeCounts)
        {
            await using var server = await BenchServer.StartAsync();
            using var client = server.Client();
            await StoreHarness.RunAsync(nodes, 64, i => NodeAsync(client, $"node-{i:D5}"));

            using var schedulerClient = server.Client();
            var informers = new InformerFactory(schedulerClient, NullLoggerFactory.Instance);
            using var scheduler = new Lotse.Scheduler.Scheduler(informers, NullLoggerFactory.Instance);
            using var stop = new CancellationTokenSource();
            var run = Task.WhenAll(scheduler.RunAsync(stop.Token), informers.RunAsync(stop.Token));
            await Task.WhenAll(informers.All.Select(i => i.Synced));

            // Warm-up (not reported): 2,000 pods through create and scheduling, then removed, so the
            // measurement sees optimized code as a running server would.
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "warm-up" } });
            await StoreHarness.RunAsync(2000, 64, i => client.CoreV1.CreateNamespacedPodAsync(Pod($"w{i:D6}", null), "warm-up"));
            while (scheduler.Scheduled < 2000)
            {
                await Task.Delay(50);
            }

            await client.CoreV1.DeleteCollectionNamespacedPodAsync("warm-up", body: new V1DeleteOptions { GracePeriodSeconds = 0 });

            // The ceiling: the same pods created with nobody scheduling them.
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "unscheduled" } });
            var createOnly = await StoreHarness.RunAsync(podCount, 64, i => client.CoreV1.CreateNamespacedPodAsync(Pod($"u{i:D6}", "other-scheduler"), "unscheduled"));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;

            var sw = Stopwatch.StartNew();
            var created = new long[podCount];
            var bindLatency = new Percentiles();
            var watch = Task.Run(async () =>
            {
                var seen = 0;
                await foreach (var (type, pod) in client.CoreV1.WatchListNamespacedPodAsync("default", resourceVersion: "0", cancellationToken: stop.Token))
                {
                    if (type == WatchEventType.Modified && pod.Spec.NodeName is not null && pod.Metadata.Name[0] == 'p' && int.TryParse(pod.Metadata.Name.AsSpan(1), CultureInfo.InvariantCulture, out var i) && Interlocked.Exchange(ref created[i], 0) is var start and > 0)
                    {
                        bindLatency.Add(start);
                        if (++seen == podCount)
                        {
                            return;
                        }
                    }
                }
            });
            await StoreHarness.RunAsync(podCount, 64, async i =>
            {
                created[i] = Stopwatch.GetTimestamp();
                await client.CoreV1.CreateNamespacedPodAsync(Pod($"p{i:D6}", null), "default");
            });
            await watch.WaitAsync(TimeSpan.FromMinutes(5));
            var scheduled = podCount / sw.Elapsed.TotalSeconds;
            var cpuPerPod = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / podCount;
            var mb = Process.GetCurrentProcess().WorkingSet64 / (1024 * 1024);
            Console.WriteLine($"{nodes,5}  {podCount,4}  {createOnly.OpsPerSecond,18:F0}  {createOnly.CpuPerOperation.TotalMicroseconds,13:F0}  {scheduled,16:F0}  {cpuPerPod,10:F0}  {scheduled / createOnly.OpsPerSecond * 100,4:F0}%  {bindLatency.At(50) / 1000,11:F1}  {bindLatency.At(99) / 1000,11:F1}  {mb,10}");
            await stop.CancelAsync();
            await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return 0;
    }

    private static async Task NodeAsync(Kubernetes client, string name)
    {
        await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } } });
        const string status = """{"status":{"allocatable":{"cpu":"32","memory":"128Gi","pods":"110"},"capacity":{"cpu":"32","memory":"128Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True"}]}}""";
        await client.CoreV1.PatchNodeStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), name);
    }

    private static V1Pod Pod(string name, string? scheduler) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec
        {
            SchedulerName = scheduler,
            Containers = [new V1Container { Name = "c", Image = "busybox", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("10Mi") } } }],
        },
    };
}
