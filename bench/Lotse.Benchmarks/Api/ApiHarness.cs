using System.Diagnostics;
using k8s;
using k8s.Models;
using Lotse.Benchmarks.Storage;

namespace Lotse.Benchmarks.Api;

/// <summary>
/// The API server benchmark of the API-core issue: creates, gets, updates through the whole HTTPS
/// stack with the official client at 1/16/64 concurrent clients, LIST of 10,000 pods, watch delivery,
/// creates paced at 500/s — beside the store's own create rate measured in the same run.
/// </summary>
internal static class ApiHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var operations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        var rows = new List<string[]>();
        await using var server = await BenchServer.StartAsync();
        var store = server.Store;
        var certificate = server.Certificate;
        var port = server.Port;
        using var client = server.Client();
        Console.WriteLine($"API benchmark: {operations} operations per measurement, 2 cores, SQLite store");

        // Warm-up (not reported): lets the JIT reach its optimized tier on the whole path first,
        // as it has in a server that has been running for a while.
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "warm-up" } });
        await StoreHarness.RunAsync(4000, 16, async i =>
        {
            var pod = await client.CoreV1.CreateNamespacedPodAsync(Pod($"w{i:D6}"), "warm-up");
            pod.Metadata.Labels["round"] = "2";
            await client.CoreV1.ReplaceNamespacedPodAsync(pod, pod.Metadata.Name, "warm-up");
            await client.CoreV1.ReadNamespacedPodAsync(pod.Metadata.Name, "warm-up");
            await store.CreateAsync($"/registry/bench-warm-up/{i:D8}", new byte[800]);
        });
        await client.CoreV1.ListNamespacedPodAsync("warm-up");

        var concurrency = args.Length > 1 ? args[1].Split(',').Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : [1, 16, 64];
        foreach (var clients in concurrency)
        {
            var ns = $"bench-{clients}";
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
            var storeAlone = await StoreHarness.RunAsync(operations, clients, i => store.CreateAsync($"/registry/bench-store-{clients}/{i:D8}", new byte[800]));
            rows.Add(StoreHarness.Row("store alone", "create", clients, storeAlone, null));
            var created = new V1Pod[operations];
            var create = await StoreHarness.RunAsync(operations, clients, async i => created[i] = await client.CoreV1.CreateNamespacedPodAsync(Pod($"p{i:D6}"), ns));
            rows.Add(StoreHarness.Row("api", "create", clients, create, storeAlone));
            var get = await StoreHarness.RunAsync(operations, clients, i => client.CoreV1.ReadNamespacedPodAsync($"p{i:D6}", ns));
            rows.Add(StoreHarness.Row("api", "get", clients, get, null));
            var update = await StoreHarness.RunAsync(operations, clients, async i =>
            {
                created[i].Metadata.Labels["round"] = "2";
                await client.CoreV1.ReplaceNamespacedPodAsync(created[i], $"p{i:D6}", ns);
            });
            rows.Add(StoreHarness.Row("api", "update", clients, update, null));
        }

        // LIST of 10,000 pods (consistent reads, as kubectl sends them).
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "list" } });
        await StoreHarness.RunAsync(10_000, 64, i => client.CoreV1.CreateNamespacedPodAsync(Pod($"l{i:D6}"), "list"));
        var list = await StoreHarness.RunAsync(20, 1, async _ =>
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync("list");
            if (pods.Items.Count != 10_000)
            {
                throw new InvalidOperationException($"listed {pods.Items.Count}");
            }
        });
        rows.Add(StoreHarness.Row("api", "list 10k pods", 1, list, null));

        // The same LIST read as bytes: the server's share, without the client deserializing 10k pods.
        using var raw = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString() },
        });
        raw.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BenchServer.Token);
        var sink = new byte[256 * 1024];
        var rawList = await StoreHarness.RunAsync(20, 1, async _ =>
        {
            // Read and drop: the client keeps no copy, so its garbage does not weigh on the server's figure.
            await using var body = await raw.GetStreamAsync(new Uri($"https://127.0.0.1:{port}/api/v1/namespaces/list/pods"));
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(sink)) > 0)
            {
                total += read;
            }

            if (total < 10_000 * 100)
            {
                throw new InvalidOperationException("short list");
            }
        });
        rows.Add(StoreHarness.Row("api", "list 10k pods (bytes only)", 1, rawList, null));

        rows.Add(StoreHarness.Row("api", "create paced at 500/s", 16, await PacedCreatesAsync(client, 500, TimeSpan.FromSeconds(4)), null));
        rows.Add(StoreHarness.Row("api", "watch delivery, creates at 500/s", 16, await WatchDeliveryAsync(client, "watch-paced", 2000, perSecond: 500), null));
        rows.Add(StoreHarness.Row("api", "watch delivery, creates flat out", 16, await WatchDeliveryAsync(client, "watch", Math.Min(operations, 1000), perSecond: null), null));
        Print(rows);

        return 0;
    }

    private static V1Pod Pod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = "bench" } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox:1.36", Command = ["sleep", "3600"] }] },
    };

    private static async Task<StoreHarness.Result> PacedCreatesAsync(Kubernetes client, int perSecond, TimeSpan duration)
    {
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "paced" } });
        var latencies = new Percentiles();
        var total = (int)(perSecond * duration.TotalSeconds);
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        var started = Stopwatch.StartNew();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = interval * i;
            var wait = due - started.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var n = i;
            tasks.Add(Task.Run(async () =>
            {
                var start = Stopwatch.GetTimestamp();
                await client.CoreV1.CreateNamespacedPodAsync(Pod($"r{n:D6}"), "paced");
                latencies.Add(start);
            }));
        }

        await Task.WhenAll(tasks);
        return new StoreHarness.Result(total / started.Elapsed.TotalSeconds, latencies);
    }

    /// <summary>
    /// The time from sending a create to a watcher receiving its ADDED event, with the creates sent by
    /// 16 clients either as fast as they can (latency then includes queueing behind the saturated
    /// server) or paced at a steady rate.
    /// </summary>
    private static async Task<StoreHarness.Result> WatchDeliveryAsync(Kubernetes client, string ns, int count, int? perSecond)
    {
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        var list = await client.CoreV1.ListNamespacedPodAsync(ns);
        var starts = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var latencies = new Percentiles();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var seen = 0;
        var done = new TaskCompletionSource();
        var watcher = Task.Run(async () =>
        {
            await foreach (var (type, pod) in client.CoreV1.WatchListNamespacedPodAsync(ns, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                if (type == k8s.WatchEventType.Added && starts.TryGetValue(pod.Metadata.Name, out var start))
                {
                    latencies.Add(start);
                    if (Interlocked.Increment(ref seen) == count)
                    {
                        done.TrySetResult();
                    }
                }
            }
        });
        await Task.Delay(500);
        var sw = Stopwatch.StartNew();
        var interval = perSecond is { } rate ? TimeSpan.FromSeconds(1.0 / rate) : TimeSpan.Zero;
        await StoreHarness.RunAsync(count, 16, async i =>
        {
            var wait = interval * i - sw.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var name = $"w{i:D6}";
            starts[name] = Stopwatch.GetTimestamp();
            await client.CoreV1.CreateNamespacedPodAsync(Pod(name), ns);
        });
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await cts.CancelAsync();
        await watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return new StoreHarness.Result(count / sw.Elapsed.TotalSeconds, latencies);
    }

    private static void Print(List<string[]> rows)
    {
        string[] header = ["stack", "operation", "clients", "ops/s", "p50 ms", "p99 ms", "CPU µs/op", "KB/op", "GC", "vs store"];
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c >= 2 && c <= 8 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).Replace("of raw", "of store", StringComparison.Ordinal));
        }
    }
}
