using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet;
using Lotse.Benchmarks.Storage;
using Lotse.Testing;

namespace Lotse.Benchmarks.Agent;

/// <summary>
/// The node agent (issue: node agent): pod create → Running as seen by a watch, with the image
/// present — N one after another and M at once — through the real <c>lotse server</c> and a
/// joined <c>lotse agent</c> process on containerd, beside the raw CRI time (RunPodSandbox +
/// CreateContainer + StartContainer on the same containerd) in the same run; and the agent's RSS
/// with M pods. Needs root and the packages scripts/deps.sh installs; installs its own network
/// guard and removes everything it made.
/// </summary>
internal static class AgentHarness
{
    private const string Node = "bench-node";

    public static async Task<int> RunAsync(string[] args)
    {
        var sequential = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        var parallel = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        if (TestImages.Missing is { } missing)
        {
            Console.Error.WriteLine($"agent benchmark: {missing}");
            return 1;
        }

        var host = HostState.Capture();
        await using var guard = new NetworkGuard();
        await guard.InstallAsync();
        var serverDir = Directory.CreateTempSubdirectory("lotse-bench-server-").FullName;
        var agentDir = Directory.CreateTempSubdirectory("lotse-bench-agent-").FullName;
        Process? server = null, agent = null;
        try
        {
            var port = FreePort();
            var kubeconfig = Path.Combine(serverDir, "kubeconfig.yaml");
            server = Start("server", "--data-dir", serverDir, "--disable-agent", "--bind-address", "127.0.0.1", "--https-listen-port", port.ToString(CultureInfo.InvariantCulture), "--write-kubeconfig", kubeconfig);
            await WaitForFileAsync(kubeconfig);
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
            await WaitAsync(async () => (await client.CoreV1.ListNamespaceAsync()).Items.Any(n => n.Metadata.Name == "default"));
            await TestImages.WriteBusyboxAsync(agentDir);
            var token = (await File.ReadAllTextAsync(Path.Combine(serverDir, "server", "token"))).Trim();
            agent = Start("agent", "--server", $"https://127.0.0.1:{port}", "--token", token, "--data-dir", agentDir, "--node-name", Node);
            await WaitAsync(async () => (await client.CoreV1.ListNodeAsync()).Items.Any(n => n.Metadata.Name == Node && n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true));
            await WaitAsync(async () => (await client.CoreV1.ReadNamespacedServiceAccountAsync("default", "default")) is not null);

            using var stop = new CancellationTokenSource();
            var running = new ConcurrentDictionary<string, TaskCompletionSource>(StringComparer.Ordinal);
            var watch = Task.Run(async () =>
            {
                await foreach (var (_, pod) in client.CoreV1.WatchListNamespacedPodAsync("default", cancellationToken: stop.Token))
                {
                    if (pod.Status?.Phase == "Running" && running.TryGetValue(pod.Metadata.Name, out var seen))
                    {
                        seen.TrySetResult();
                    }
                }
            });

            async Task<double> CreateAndWaitAsync(string name)
            {
                var seen = running.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                var start = Stopwatch.GetTimestamp();
                await client.CoreV1.CreateNamespacedPodAsync(Pod(name), "default");
                await seen.Task.WaitAsync(TimeSpan.FromSeconds(120));
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Console.WriteLine($"agent benchmark: {sequential} pods one after another, {parallel} at once; {Environment.ProcessorCount} cores; containerd {await ContainerdVersionAsync(agentDir)}");
            for (var i = 0; i < 3; i++)
            {
                await CreateAndWaitAsync($"warm-{i}");
            }

            await DeleteAllAsync(client);
            var agentSequential = new Percentiles();
            for (var i = 0; i < sequential; i++)
            {
                agentSequential.AddMicros(await CreateAndWaitAsync($"seq-{i:D3}") * 1000);
            }

            await DeleteAllAsync(client);
            var agentParallel = new Percentiles();
            var wall = Stopwatch.StartNew();
            foreach (var latency in await Task.WhenAll(Enumerable.Range(0, parallel).Select(i => CreateAndWaitAsync($"par-{i:D3}"))))
            {
                agentParallel.AddMicros(latency * 1000);
            }

            var parallelWall = wall.Elapsed.TotalMilliseconds;
            await Task.Delay(TimeSpan.FromSeconds(3)); // settle: the agent at rest with the pods
            var agentRss = RssMb(agent.Id);
            var agentMappings = RssByMapping(agent.Id);
            if (Environment.GetEnvironmentVariable("LOTSE_BENCH_HOLD") is { } hold)
            {
                // Time to attach dotnet-counters/dotnet-gcdump to the agent at rest with its pods.
                Console.WriteLine($"holding {hold} s: agent pid {agent.Id}");
                await Task.Delay(TimeSpan.FromSeconds(int.Parse(hold, CultureInfo.InvariantCulture)));
            }

            var containerdRss = RssMb(int.Parse(await File.ReadAllTextAsync(Path.Combine(agentDir, "agent", "containerd", "containerd.pid")), CultureInfo.InvariantCulture));
            await DeleteAllAsync(client);
            await stop.CancelAsync();
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // The raw baseline: the same work straight on CRI, on the same containerd and pod network.
            using var cri = new CriClient(Path.Combine(agentDir, "agent", "containerd", "containerd.sock"));
            var rawSequential = new Percentiles();
            for (var i = 0; i < sequential; i++)
            {
                rawSequential.AddMicros(await RawPodAsync(cri, agentDir, $"raw-seq-{i:D3}") * 1000);
            }

            await RemoveRawAsync(cri);
            var rawParallel = new Percentiles();
            wall.Restart();
            foreach (var latency in await Task.WhenAll(Enumerable.Range(0, parallel).Select(i => RawPodAsync(cri, agentDir, $"raw-par-{i:D3}"))))
            {
                rawParallel.AddMicros(latency * 1000);
            }

            var rawParallelWall = wall.Elapsed.TotalMilliseconds;
            await RemoveRawAsync(cri);

            Console.WriteLine("case                     pods  p50 ms   p99 ms   raw p50 ms  raw p99 ms  ratio p50  ratio p99  wall ms (raw)");
            Row("one after another", sequential, agentSequential, rawSequential, null, null);
            Row("at once", parallel, agentParallel, rawParallel, parallelWall, rawParallelWall);
            Console.WriteLine($"agent RSS with {parallel} pods: {agentRss:0.0} MB (containerd {containerdRss:0.0} MB)");
            Console.WriteLine($"agent RSS by mapping: {string.Join(", ", agentMappings.Take(8).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {m.Mb:0.0}")))}");
            return 0;
        }
        finally
        {
            await StopAsync(agent);
            await StopAsync(server);
            HostCommands.UnmountUnder(agentDir);
            Directory.Delete(agentDir, recursive: true);
            Directory.Delete(serverDir, recursive: true);
            await host.RestoreAsync();
        }
    }

    private static void Row(string name, int pods, Percentiles agent, Percentiles raw, double? wall, double? rawWall) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-24} {pods,4}  {agent.At(50) / 1000,7:0.0}  {agent.At(99) / 1000,7:0.0}  {raw.At(50) / 1000,10:0.0}  {raw.At(99) / 1000,10:0.0}  {agent.At(50) / raw.At(50),9:0.00}  {agent.At(99) / raw.At(99),9:0.00}  {(wall is null ? string.Empty : $"{wall:0} ({rawWall:0})")}"));

    private static V1Pod Pod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec
        {
            NodeName = Node,
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = TestImages.BusyboxReference, Command = ["sleep", "3600"] }],
        },
    };

    /// <summary>What the agent does for such a pod, straight on CRI: sandbox, container, start.</summary>
    private static async Task<double> RawPodAsync(CriClient cri, string agentDir, string name)
    {
        var pod = Pod(name);
        pod.Metadata.NamespaceProperty = "raw";
        pod.Metadata.Uid = Guid.NewGuid().ToString();
        var logs = Path.Combine(agentDir, "agent", "logs", "raw");
        var dns = new DNSConfig();
        var start = Stopwatch.GetTimestamp();
        var sandboxConfig = RuntimeConfigs.Sandbox(pod, 0, logs, "cluster.local", dns);
        // Not the agent's: without the pod labels its sweep of orphaned sandboxes leaves these alone.
        Unlabel(sandboxConfig.Labels);
        sandboxConfig.Labels["lotse.bench"] = "raw";
        Directory.CreateDirectory(Path.Combine(sandboxConfig.LogDirectory, "main"));
        var sandbox = (await cri.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = sandboxConfig })).PodSandboxId;
        var container = RuntimeConfigs.Container(pod, pod.Spec.Containers[0], 0, [], TestImages.BusyboxReference);
        Unlabel(container.Labels);
        var id = (await cri.Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = sandbox, Config = container, SandboxConfig = sandboxConfig })).ContainerId;
        await cri.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static void Unlabel(IDictionary<string, string> labels)
    {
        labels.Remove(RuntimeConfigs.PodUidLabel);
        labels.Remove(RuntimeConfigs.PodNameLabel);
        labels.Remove(RuntimeConfigs.PodNamespaceLabel);
    }

    private static async Task RemoveRawAsync(CriClient cri)
    {
        var sandboxes = await cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { LabelSelector = { ["lotse.bench"] = "raw" } } });
        await Task.WhenAll(sandboxes.Items.Select(async sandbox =>
        {
            var containers = await cri.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = sandbox.Id } });
            foreach (var container in containers.Containers)
            {
                await cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = container.Id, Timeout = 1 });
                await cri.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = container.Id });
            }

            await cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id });
            await cri.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox.Id });
            PodCgroups.Remove(sandbox.Metadata.Uid);
        }));
    }

    private static async Task DeleteAllAsync(Kubernetes client)
    {
        await client.CoreV1.DeleteCollectionNamespacedPodAsync("default", body: new V1DeleteOptions { GracePeriodSeconds = 1 });
        await WaitAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("default")).Items.Count == 0, TimeSpan.FromMinutes(3));
    }

    private static async Task<string> ContainerdVersionAsync(string agentDir)
    {
        using var cri = new CriClient(Path.Combine(agentDir, "agent", "containerd", "containerd.sock"));
        return (await cri.Runtime.VersionAsync(new VersionRequest())).RuntimeVersion;
    }

    private static double RssMb(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).FirstOrDefault();

    /// <summary>Resident memory per mapping (file name, or anonymous), largest first: where the RSS goes.</summary>
    private static List<(string Name, double Mb)> RssByMapping(int pid)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var name = "anonymous";
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && fields[0].Contains('-', StringComparison.Ordinal) && !fields[0].EndsWith(':'))
            {
                name = fields.Length >= 6 ? Path.GetFileName(fields[5]) : "anonymous";
            }
            else if (fields.Length > 1 && fields[0] == "Rss:")
            {
                sizes[name] = sizes.GetValueOrDefault(name) + long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
        }

        return [.. sizes.Select(s => (s.Key, s.Value / 1024.0)).OrderByDescending(s => s.Item2)];
    }

    private static Process Start(params string[] args)
    {
        // LOTSE_BINARY measures another build of lotse, e.g. the published one scripts/install.sh makes.
        var binary = Environment.GetEnvironmentVariable("LOTSE_BINARY") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "lotse");
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task StopAsync(Process? process)
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        await HostCommands.RunAsync("kill", "-TERM", process.Id.ToString(CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitForFileAsync(string path)
    {
        for (var i = 0; i < 600 && !File.Exists(path); i++)
        {
            await Task.Delay(100);
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException && DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the benchmark cluster did not get ready");
            }

            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
