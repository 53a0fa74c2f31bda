using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Lotse.E2E.Tests;

/// <summary>The node-agent tests change host state (the CNI bridge, cgroups, ip_forward): they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeAgentsGroup
{
    public const string Name = "node agents";
}

/// <summary>
/// A second host joins: an agent in its own network namespace (a "host" reachable over a veth pair)
/// with its own containerd joins <c>lotse server</c> with the join token — verifying the server's
/// CA against the token's hash — and runs a pod; the pod moves between the nodes by delete and
/// apply (the seed flow); the agent killed with -9 and started again adopts its running pod.
/// </summary>
[Collection(NodeAgentsGroup.Name)]
public sealed partial class JoinTests
{
    private const string Netns = "lotse-e2e-w2";
    private const string HostSide = "lte2e-h";
    private const string HostIp = "10.250.77.1";
    private const string WorkerIp = "10.250.77.2";
    private const string Worker = "e2e-worker";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [NodeAgentFact]
    public async Task Agent_JoinsWithTheToken_RunsPods_AndAdoptsThemAfterAKill()
    {
        var host = HostState.Capture();
        await using var guard = new NetworkGuard();
        await guard.InstallAsync();
        var workerDir = Directory.CreateTempSubdirectory("lotse-e2e-w-").FullName;
        string? podRoute = null;
        AgentProcess? agent = null;
        await using var server = new LotseServerProcess(agent: true, bindAddress: HostIp);
        var agentExit = 0;
        try
        {
            await HostCommands.RunAsync("ip", "netns", "del", Netns); // left by a run that was killed
            await Run("ip", "netns", "add", Netns);
            await Run("ip", "link", "add", HostSide, "type", "veth", "peer", "name", "eth0", "netns", Netns);
            await Run("ip", "addr", "add", HostIp + "/24", "dev", HostSide);
            await Run("ip", "link", "set", HostSide, "up");
            await Run("ip", "-n", Netns, "addr", "add", WorkerIp + "/24", "dev", "eth0");
            await Run("ip", "-n", Netns, "link", "set", "eth0", "up");
            await Run("ip", "-n", Netns, "link", "set", "lo", "up");

            await TestImages.WriteBusyboxAsync(server.DataDir);
            await server.StartAsync("--node-name", "e2e-server");
            var kubectl = new Kubectl(Kubectl.PathOf("1.33"), server.Kubeconfig, Directory.CreateDirectory(Path.Combine(server.DataDir, "kubectl-cache")).FullName);

            // A wrong CA hash in the token: the agent refuses to trust the server.
            var forged = "K10" + new string('0', 64) + server.Token[server.Token.IndexOf("::", StringComparison.Ordinal)..];
            var refused = AgentProcess.Start(server.Url, forged, workerDir);
            Assert.NotEqual(0, await refused.WaitForExitAsync(Timeout));
            Assert.Contains("does not match the hash in the join token", refused.Output, StringComparison.Ordinal);

            await TestImages.WriteBusyboxAsync(workerDir);
            agent = AgentProcess.Start(server.Url, server.Token, workerDir);
            await agent.WaitForOutputAsync("Node agent running", Timeout);
            var node = await WaitForAsync(kubectl, "node", Worker, n => Ready(n) && n.GetProperty("spec").TryGetProperty("podCIDR", out _));
            Assert.False(node.GetProperty("metadata").GetProperty("labels").TryGetProperty("node-role.kubernetes.io/control-plane", out _));
            Assert.Equal(WorkerIp, node.GetProperty("status").GetProperty("addresses")[0].GetProperty("address").GetString());
            Assert.True(File.Exists(Path.Combine(workerDir, "agent", "credentials", "client-kubelet.crt")));
            Assert.DoesNotContain("admin", File.ReadAllText(Path.Combine(workerDir, "agent", "credentials", "client-kubelet.crt")), StringComparison.Ordinal);

            // Pods of the worker's range are reached through the worker (host-gw style, as the networking milestone will set up).
            podRoute = node.GetProperty("spec").GetProperty("podCIDR").GetString()!;
            await Run("ip", "route", "add", podRoute, "via", WorkerIp);

            var manifest = Pod("mover", Worker);
            Assert.Contains("pod/mover created", (await kubectl.RunWithInputAsync(manifest, "apply", "-f", "-")).Stdout, StringComparison.Ordinal);
            var onWorker = await WaitForAsync(kubectl, "pod", "mover", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
            var ip = onWorker.GetProperty("status").GetProperty("podIP").GetString()!;
            Assert.True(InRange(ip, podRoute), $"{ip} is not in the worker's range {podRoute}");
            var (_, wide, _) = await kubectl.RunAsync("get", "pods", "-o", "wide");
            Assert.Matches($@"mover\s+1/1\s+Running\s+0\s+\S+\s+{Regex(ip)}\s+{Worker}", wide);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            Assert.Equal("hello-from-" + Worker, (await GetWithRetryAsync(http, $"http://{ip}:8080/")).Trim());
            var (logsExit, logs, logsError) = await kubectl.RunAsync("logs", "mover");
            Assert.True(logsExit == 0, logsError); // through the worker's agent on 10250, in its namespace
            Assert.Equal($"serving on {Worker}\n", logs);

            // kill -9 of the agent: containerd and the pod live on; the next agent adopts them.
            var containerId = onWorker.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("containerID").GetString();
            agent.Kill();
            Assert.Equal("hello-from-" + Worker, (await http.GetStringAsync($"http://{ip}:8080/")).Trim());
            agent = AgentProcess.Start(server.Url, server.Token, workerDir);
            await agent.WaitForOutputAsync("Node agent running", Timeout);
            Assert.Contains("adopted", agent.Output, StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var adopted = await GetAsync(kubectl, "pod", "mover");
            var status = adopted.GetProperty("status").GetProperty("containerStatuses")[0];
            Assert.Equal(containerId, status.GetProperty("containerID").GetString());
            Assert.Equal(0, status.GetProperty("restartCount").GetInt32());

            // Static pods run without the API server: with a manifest in its folder and the server
            // gone, the agent starts on its saved credentials and runs the pod; once the server is
            // back, the pod's mirror shows it there.
            await agent.StopAsync();
            var manifests = Directory.CreateDirectory(Path.Combine(workerDir, "agent", "pod-manifests")).FullName;
            await File.WriteAllTextAsync(Path.Combine(manifests, "static-web.yaml"), StaticPod);
            await server.StopAsync();
            agent = AgentProcess.Start(server.Url, server.Token, workerDir);
            Assert.Equal("static-pod-ok", (await GetWithRetryAsync(http, $"http://{WorkerIp}:8081/", Timeout)).Trim());
            Assert.Contains("cannot reach", agent.Output, StringComparison.Ordinal); // it did try the server
            await server.StartAsync("--node-name", "e2e-server");
            await agent.WaitForOutputAsync("Node agent running", Timeout);
            var mirror = await WaitForAsync(kubectl, "pod", $"static-web-{Worker}", p => p.GetProperty("status").TryGetProperty("phase", out var phase) && phase.GetString() == "Running");
            Assert.True(mirror.GetProperty("metadata").GetProperty("annotations").TryGetProperty("kubernetes.io/config.mirror", out _));
            Assert.Equal("Node", mirror.GetProperty("metadata").GetProperty("ownerReferences")[0].GetProperty("kind").GetString());
            File.Delete(Path.Combine(manifests, "static-web.yaml"));
            await WaitForGoneAsync(kubectl, "pod", $"static-web-{Worker}");

            // Moving the pod: delete, then apply it for the server's node.
            Assert.Equal(0, (await kubectl.RunAsync("delete", "pod", "mover")).ExitCode);
            Assert.Contains("pod/mover created", (await kubectl.RunWithInputAsync(Pod("mover", "e2e-server"), "apply", "-f", "-")).Stdout, StringComparison.Ordinal);
            var onServer = await WaitForAsync(kubectl, "pod", "mover", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
            Assert.Equal("e2e-server", onServer.GetProperty("spec").GetProperty("nodeName").GetString());
            Assert.Equal("hello-from-e2e-server", (await GetWithRetryAsync(http, $"http://{onServer.GetProperty("status").GetProperty("podIP").GetString()}:8080/")).Trim());
            Assert.Equal(0, (await kubectl.RunAsync("delete", "pod", "mover")).ExitCode);
        }
        finally
        {
            if (agent is not null)
            {
                await agent.StopAsync();
                agentExit = agent.ExitCode;
            }

            await server.StopAsync();
            HostCommands.UnmountUnder(workerDir);
            HostCommands.UnmountUnder(server.DataDir);
            if (podRoute is not null)
            {
                await HostCommands.RunAsync("ip", "route", "del", podRoute);
            }

            await HostCommands.RunAsync("ip", "link", "del", HostSide);
            await HostCommands.RunAsync("ip", "netns", "del", Netns);
            Directory.Delete(workerDir, recursive: true);
            await host.RestoreAsync();
        }

        Assert.True(agentExit == 0, $"the agent exited with {agentExit} on SIGTERM:\n{agent?.Output}");
    }

    private static string Pod(string name, string node) => $$$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{{name}}}
        spec:
          nodeName: {{{node}}}
          terminationGracePeriodSeconds: 2
          containers:
          - name: web
            image: {{{NodeAgentFixture.Busybox}}}
            env:
            - name: NODE
              valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
            command: ["sh", "-c", "mkdir -p /www && echo hello-from-$NODE > /www/index.html && echo serving on $NODE && exec httpd -f -p 8080 -h /www"]
        """;

    /// <summary>A static pod on the worker's own network (its namespace), answering on 8081.</summary>
    private static string StaticPod => $$$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: static-web
        spec:
          hostNetwork: true
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: {{{NodeAgentFixture.Busybox}}}
            command: ["sh", "-c", "mkdir -p /tmp/www && echo static-pod-ok > /tmp/www/index.html && exec httpd -f -p 8081 -h /tmp/www"]
        """;

    private static bool Ready(JsonElement node) =>
        node.GetProperty("status").TryGetProperty("conditions", out var conditions)
        && conditions.EnumerateArray().Any(c => c.GetProperty("type").GetString() == "Ready" && c.GetProperty("status").GetString() == "True");

    private static bool InRange(string ip, string cidr)
    {
        var prefix = cidr[..cidr.LastIndexOf('.')];
        return ip.StartsWith(prefix + ".", StringComparison.Ordinal);
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    private static async Task Run(string file, params string[] args)
    {
        var (code, output) = await HostCommands.RunAsync(file, args);
        Assert.True(code == 0, $"{file} {string.Join(' ', args)}: {output}");
    }

    private static async Task<JsonElement> GetAsync(Kubectl kubectl, string kind, string name)
    {
        var (exit, output, error) = await kubectl.RunAsync("get", kind, name, "-o", "json");
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForAsync(Kubectl kubectl, string kind, string name, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            var (exit, output, _) = await kubectl.RunAsync("get", kind, name, "-o", "json");
            if (exit == 0)
            {
                last = output;
                var element = JsonDocument.Parse(output).RootElement.Clone();
                if (condition(element))
                {
                    return element;
                }
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{kind}/{name} did not reach the expected state: {last}");
        return default;
    }

    private static async Task<string> GetWithRetryAsync(HttpClient http, string url, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(5));
        while (true)
        {
            try
            {
                return await http.GetStringAsync(url);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    private static async Task WaitForGoneAsync(Kubectl kubectl, string kind, string name)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var (exit, _, error) = await kubectl.RunAsync("get", kind, name);
            if (exit != 0 && error.Contains("NotFound", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{kind}/{name} is still there");
    }

    /// <summary><c>lotse agent</c> inside the worker's network namespace (nsenter, not ip netns exec, which hides /sys/fs/cgroup).</summary>
    private sealed partial class AgentProcess
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly Lock _gate = new();

        private AgentProcess(Process process) => _process = process;

        public string Output
        {
            get
            {
                lock (_gate)
                {
                    return _output.ToString();
                }
            }
        }

        public int ExitCode => _process.ExitCode;

        public static AgentProcess Start(string server, string token, string dataDir)
        {
            var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in (string[])[$"--net=/var/run/netns/{Netns}", LotseServerProcess.Binary, "agent", "--server", server, "--token", token, "--data-dir", dataDir, "--node-name", Worker, "--node-ip", WorkerIp])
            {
                info.ArgumentList.Add(arg);
            }

            var agent = new AgentProcess(Process.Start(info)!);
            agent._process.OutputDataReceived += (_, e) => agent.Append(e.Data);
            agent._process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
            agent._process.BeginOutputReadLine();
            agent._process.BeginErrorReadLine();
            return agent;
        }

        public async Task WaitForOutputAsync(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                if (_process.HasExited || DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"the agent did not say \"{text}\":\n{Output}");
                }

                await Task.Delay(100);
            }
        }

        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }

        /// <summary>SIGKILL: the agent dies at once; its containerd is left running.</summary>
        public void Kill()
        {
            _ = SendSignal(_process.Id, 9);
            _process.WaitForExit();
        }

        public async Task StopAsync()
        {
            if (_process.HasExited)
            {
                return;
            }

            _ = SendSignal(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_gate)
                {
                    _output.AppendLine(line);
                }
            }
        }

        [LibraryImport("libc", EntryPoint = "kill")]
        private static partial int SendSignal(int pid, int signal);
    }
}
