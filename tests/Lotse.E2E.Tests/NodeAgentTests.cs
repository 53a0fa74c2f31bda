using System.Text.Json;
using Lotse.Agent.Cri.V1;

namespace Lotse.E2E.Tests;

/// <summary>Skips on machines without root or the container packages (scripts/deps.sh installs them; CI has them).</summary>
public sealed class NodeAgentFactAttribute : FactAttribute
{
    public NodeAgentFactAttribute() => Skip = Why(NodeAgentFixture.Missing);

    /// <summary>Why a test on a real node cannot run here: what its fixture misses, or kubectl 1.33; null when it can.</summary>
    internal static string? Why(string? missing) =>
        missing ?? (File.Exists(Kubectl.PathOf("1.33")) ? null : $"kubectl 1.33 is not installed at {Kubectl.Directory}");
}

/// <summary>
/// Real containers: <c>lotse server</c> with its node agent on containerd, driven by the real
/// kubectl — the seed flow (a pod with nodeName runs, shows its IP and node, serves a page, is
/// deleted with its containers), restarts with back-off, OOM kills, environment, failures, and
/// containerd dying under running pods.
/// </summary>
[Collection(NodeAgentsGroup.Name)]
public sealed partial class NodeAgentTests(NodeAgentFixture fixture) : IClassFixture<NodeAgentFixture>
{
    private readonly Kubectl _kubectl = fixture.Kubectl();

    private static string Pod(string name, string command, string restartPolicy = "Always", string extraContainer = "", string extraSpec = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          nodeName: {{NodeAgentFixture.NodeName}}
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: 2
        {{extraSpec}}
          containers:
          - name: main
            image: {{NodeAgentFixture.Busybox}}
            command: ["sh", "-c", {{JsonSerializer.Serialize(command)}}]
        {{extraContainer}}
        """;

    private const string Httpd = "mkdir -p /www && echo hello-from-lotse > /www/index.html && exec httpd -f -p 8080 -h /www";

    [NodeAgentFact]
    public async Task Node_RegistersReadyAsAControlPlaneNode()
    {
        var node = await WaitForAsync("node", NodeAgentFixture.NodeName, n => n.GetProperty("status").GetProperty("conditions").EnumerateArray().Any(c => c.GetProperty("type").GetString() == "Ready" && c.GetProperty("status").GetString() == "True"));
        Assert.StartsWith("10.42.", node.GetProperty("spec").GetProperty("podCIDR").GetString(), StringComparison.Ordinal);
        var (exit, output, _) = await _kubectl.RunAsync("get", "nodes");
        Assert.Equal(0, exit);
        Assert.Matches(@"e2e-node\s+Ready\s+control-plane", output);
        Assert.StartsWith("containerd://", node.GetProperty("status").GetProperty("nodeInfo").GetProperty("containerRuntimeVersion").GetString(), StringComparison.Ordinal);

        // Pressure is measured on this machine (plenty free here), and the node lists its images (the pause image at least).
        var memory = node.GetProperty("status").GetProperty("conditions").EnumerateArray().Single(c => c.GetProperty("type").GetString() == "MemoryPressure");
        Assert.Equal(("False", "KubeletHasSufficientMemory"), (memory.GetProperty("status").GetString(), memory.GetProperty("reason").GetString()));
        await WaitForAsync("node", NodeAgentFixture.NodeName, n => n.GetProperty("status").TryGetProperty("images", out var images)
            && images.EnumerateArray().Any(i => i.GetProperty("names").EnumerateArray().Any(name => name.GetString() == "lotse.io/pause:catatonit") && i.GetProperty("sizeBytes").GetInt64() > 0));
    }

    [NodeAgentFact]
    public async Task Pod_WithNodeName_RunsServesItsPageAndIsDeletedWithItsContainers()
    {
        await ApplyAsync(Pod("web", Httpd, extraContainer: "    ports: [{containerPort: 8080}]"), "pod/web created");
        var (waited, _, waitError) = await _kubectl.RunAsync("wait", "--for=condition=Ready", "pod/web", "--timeout=60s");
        Assert.True(waited == 0, waitError + await DescribeAsync("web"));

        var (_, wide, _) = await _kubectl.RunAsync("get", "pod", "web", "-o", "wide");
        Assert.Matches(@"web\s+1/1\s+Running\s+0\s+\S+\s+10\.42\.\d+\.\d+\s+e2e-node", wide);
        var pod = await GetAsync("pod", "web");
        var ip = pod.GetProperty("status").GetProperty("podIP").GetString()!;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            Assert.Equal("hello-from-lotse", (await http.GetStringAsync($"http://{ip}:8080/")).Trim());
        }

        var uid = pod.GetProperty("metadata").GetProperty("uid").GetString()!;
        using var cri = fixture.Cri();
        Assert.NotEmpty(await ContainersOfAsync(cri, uid));
        var (deleted, deleteOutput, deleteError) = await _kubectl.RunAsync("delete", "pod", "web");
        Assert.True(deleted == 0, deleteError);
        Assert.Contains("pod \"web\" deleted", deleteOutput, StringComparison.Ordinal);
        Assert.Empty(await ContainersOfAsync(cri, uid));
        Assert.Empty((await cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { LabelSelector = { ["io.kubernetes.pod.uid"] = uid } } })).Items);
        var (_, _, notFound) = await _kubectl.RunAsync("get", "pod", "web");
        Assert.Contains("pods \"web\" not found", notFound, StringComparison.Ordinal);
    }

    [NodeAgentFact]
    public async Task CrashingContainer_GoesIntoCrashLoopBackOffWithGrowingBackOff()
    {
        await ApplyAsync(Pod("crasher", "echo bye; exit 3"), "pod/crasher created");
        var first = await WaitForAsync("pod", "crasher", p => Waiting(p) == "CrashLoopBackOff");
        var status = first.GetProperty("status").GetProperty("containerStatuses")[0];
        Assert.Contains("back-off 10s restarting failed container=main", status.GetProperty("state").GetProperty("waiting").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, status.GetProperty("lastState").GetProperty("terminated").GetProperty("exitCode").GetInt32());
        Assert.Equal("Error", status.GetProperty("lastState").GetProperty("terminated").GetProperty("reason").GetString());
        Assert.Equal("Running", first.GetProperty("status").GetProperty("phase").GetString());

        // The next crash waits twice as long.
        var later = await WaitForAsync("pod", "crasher", p => Waiting(p) == "CrashLoopBackOff" && Message(p).Contains("back-off 20s", StringComparison.Ordinal));
        Assert.True(later.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("restartCount").GetInt32() >= 2);
        var (_, table, _) = await _kubectl.RunAsync("get", "pod", "crasher");
        Assert.Matches(@"crasher\s+0/1\s+CrashLoopBackOff\s+[23]", table);
        var (previousExit, previous, previousError) = await _kubectl.RunAsync("logs", "crasher", "--previous");
        Assert.True(previousExit == 0, previousError);
        Assert.Equal("bye", previous.Trim());
        await _kubectl.RunAsync("delete", "pod", "crasher", "--wait=false");
    }

    [NodeAgentFact]
    public async Task Logs_TailTimestampsFollowAndErrors()
    {
        await ApplyAsync(Pod("talker", "echo line1; sleep 0.2; echo line2 >&2; sleep 1; echo line3; sleep 3600"), "pod/talker created");
        await WaitForAsync("pod", "talker", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        string all = string.Empty;
        for (var attempt = 0; attempt < 40 && !all.Contains("line3", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(250);
            var (exit, output, error) = await _kubectl.RunAsync("logs", "talker");
            Assert.True(exit == 0, error);
            all = output;
        }

        Assert.Equal("line1\nline2\nline3\n", all);
        Assert.Equal("line3\n", (await _kubectl.RunAsync("logs", "talker", "--tail=1")).Stdout);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line1$", (await _kubectl.RunAsync("logs", "talker", "--timestamps")).Stdout.Split('\n')[0]);
        Assert.Equal("line1\nli", (await _kubectl.RunAsync("logs", "talker", "--limit-bytes=8")).Stdout);
        var (_, followed, _) = await _kubectl.RunForAsync(TimeSpan.FromSeconds(3), "logs", "-f", "talker");
        Assert.Contains("line3", followed, StringComparison.Ordinal);

        var (badExit, _, badError) = await _kubectl.RunAsync("logs", "talker", "-c", "nope");
        Assert.NotEqual(0, badExit);
        Assert.Contains("container nope is not valid for pod talker", badError, StringComparison.Ordinal);
        var (previousExit, _, previousError) = await _kubectl.RunAsync("logs", "talker", "--previous");
        Assert.NotEqual(0, previousExit);
        Assert.Contains("previous terminated container \"main\" in pod \"talker\" not found", previousError, StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "pod", "talker", "--wait=false");
    }

    [NodeAgentFact]
    public async Task ReadinessProbe_KeepsThePodUnreadyUntilItPasses()
    {
        const string Probe = """
                readinessProbe:
                  exec: {command: [cat, /tmp/ready]}
                  periodSeconds: 1
                  failureThreshold: 1
            """;
        await ApplyAsync(Pod("slowstart", "sleep 4; mkdir -p /tmp; touch /tmp/ready; exec sleep 3600", extraContainer: Probe), "pod/slowstart created");
        var unready = await WaitForAsync("pod", "slowstart", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        Assert.False(unready.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("ready").GetBoolean());
        Assert.Equal("False", Condition(unready, "Ready"));
        var (_, table, _) = await _kubectl.RunAsync("get", "pod", "slowstart");
        Assert.Matches(@"slowstart\s+0/1\s+Running", table);

        var ready = await WaitForAsync("pod", "slowstart", p => Condition(p, "Ready") == "True");
        Assert.True(ready.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("ready").GetBoolean());
        await EventAsync("slowstart", "Readiness probe failed");
        await _kubectl.RunAsync("delete", "pod", "slowstart", "--wait=false");
    }

    [NodeAgentFact]
    public async Task LivenessProbe_FailingRestartsTheContainer()
    {
        const string Probe = """
                ports: [{name: web, containerPort: 8080}]
                livenessProbe:
                  httpGet: {path: /healthz, port: web}
                  periodSeconds: 1
                  failureThreshold: 2
                readinessProbe:
                  tcpSocket: {port: 8080}
                  periodSeconds: 1
            """;
        await ApplyAsync(Pod("sickly", "mkdir -p /www; echo ok > /www/healthz; (sleep 3; rm /www/healthz) & exec httpd -f -p 8080 -h /www", extraContainer: Probe), "pod/sickly created");
        await WaitForAsync("pod", "sickly", p => Condition(p, "Ready") == "True");
        var restarted = await WaitForAsync("pod", "sickly", p => p.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("restartCount").GetInt32() >= 1);
        await EventAsync("sickly", "Liveness probe failed: HTTP probe failed with statuscode: 404");
        await EventAsync("sickly", "Container main failed liveness probe, will be restarted");
        Assert.Equal("Running", restarted.GetProperty("status").GetProperty("phase").GetString());
        await _kubectl.RunAsync("delete", "pod", "sickly", "--wait=false");
    }

    private static readonly TimeSpan Timeout = PodWaits.Timeout;

    private Task EventAsync(string pod, string text) => _kubectl.EventAsync(pod, text);

    private static string? Condition(JsonElement pod, string type) =>
        pod.GetProperty("status").TryGetProperty("conditions", out var conditions)
            ? conditions.EnumerateArray().Where(c => c.GetProperty("type").GetString() == type).Select(c => c.GetProperty("status").GetString()).FirstOrDefault()
            : null;

    [NodeAgentFact]
    public async Task MemoryLimitedContainer_IsOOMKilled()
    {
        await ApplyAsync(
            Pod("hog", "dd if=/dev/zero of=/dev/null bs=100M count=1", restartPolicy: "Never", extraContainer: "    resources: {limits: {memory: 32Mi}}"),
            "pod/hog created");
        var pod = await WaitForAsync("pod", "hog", p => p.GetProperty("status").GetProperty("phase").GetString() == "Failed");
        var terminated = pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("state").GetProperty("terminated");
        Assert.Equal("OOMKilled", terminated.GetProperty("reason").GetString());
        Assert.Equal(137, terminated.GetProperty("exitCode").GetInt32());
        await _kubectl.RunAsync("delete", "pod", "hog");
    }

    [NodeAgentFact]
    public async Task FinishedContainer_PodSucceeds()
    {
        await ApplyAsync(Pod("once", "true", restartPolicy: "Never"), "pod/once created");
        var pod = await WaitForAsync("pod", "once", p => p.GetProperty("status").GetProperty("phase").GetString() == "Succeeded");
        var terminated = pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("state").GetProperty("terminated");
        Assert.Equal("Completed", terminated.GetProperty("reason").GetString());
        var (_, table, _) = await _kubectl.RunAsync("get", "pod", "once");
        Assert.Matches(@"once\s+0/1\s+Completed\s+0", table);
        await _kubectl.RunAsync("delete", "pod", "once");
    }

    [NodeAgentFact]
    public async Task Environment_FromConfigMapSecretFieldsAndExpansion()
    {
        await ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: env-cm}
            data: {GREETING: hello}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: env-secret}
            stringData: {PASSWORD: s3cret}
            """, "configmap/env-cm created");
        const string Env = """
                env:
                - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: PASSWORD, valueFrom: {secretKeyRef: {name: env-secret, key: PASSWORD}}}
                - {name: MESSAGE, value: "$(GREETING) from $(POD_NAME), $$(ESCAPED) $(UNKNOWN)"}
                envFrom:
                - configMapRef: {name: env-cm}
            """;
        await ApplyAsync(Pod("envy", "mkdir -p /www && env > /www/index.html && exec httpd -f -p 8080 -h /www", extraContainer: Env), "pod/envy created");
        var pod = await WaitForAsync("pod", "envy", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var env = await GetWithRetryAsync(http, $"http://{pod.GetProperty("status").GetProperty("podIP").GetString()}:8080/");
        Assert.Contains("POD_NAME=envy", env, StringComparison.Ordinal);
        Assert.Contains("PASSWORD=s3cret", env, StringComparison.Ordinal);
        Assert.Contains("GREETING=hello", env, StringComparison.Ordinal);
        Assert.Contains("MESSAGE=hello from envy, $(ESCAPED) $(UNKNOWN)", env, StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "pod", "envy", "--wait=false");

        // A reference to a ConfigMap that does not exist: the container waits with kube's reason.
        await ApplyAsync(Pod("lost", "true", extraContainer: "    envFrom: [{configMapRef: {name: no-such-cm}}]"), "pod/lost created");
        var lost = await WaitForAsync("pod", "lost", p => Waiting(p) == "CreateContainerConfigError");
        Assert.Contains("configmap \"no-such-cm\" not found", Message(lost), StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "pod", "lost", "--wait=false");
    }

    [NodeAgentFact]
    public async Task ImagesImport_MakesAnArchiveRunnable()
    {
        var archive = Path.Combine(fixture.Server.DataDir, "imported.tar");
        await using (var file = File.Create(archive))
        {
            var image = new Lotse.Agent.Images.OciImage("lotse.test/imported:2") { Cmd = ["/bin/sh"] }.AddHostFile("bin/busybox", "/bin/busybox").AddSymlink("bin/sh", "busybox").AddSymlink("bin/sleep", "busybox");
            image.WriteArchive(file);
        }

        var (exit, output) = await HostCommands.RunAsync(LotseServerProcess.Binary, "images", "import", "--data-dir", fixture.Server.DataDir, archive);
        Assert.True(exit == 0, output);
        Assert.Contains("imported", output, StringComparison.Ordinal);
        await ApplyAsync(Pod("imported", "exec sleep 3600").Replace(NodeAgentFixture.Busybox, "lotse.test/imported:2", StringComparison.Ordinal), "pod/imported created");
        await WaitForAsync("pod", "imported", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        await _kubectl.RunAsync("delete", "pod", "imported", "--wait=false");
    }

    [NodeAgentFact]
    public async Task MissingImage_ShowsErrImagePull()
    {
        await ApplyAsync(Pod("ghost", "true").Replace(NodeAgentFixture.Busybox, "127.0.0.1:9/no-such-image:1", StringComparison.Ordinal), "pod/ghost created");
        var pod = await WaitForAsync("pod", "ghost", p => Waiting(p) is "ErrImagePull" or "ImagePullBackOff");
        Assert.Contains("127.0.0.1:9/no-such-image:1", Message(pod), StringComparison.Ordinal);
        await EventAsync("ghost", "Pulling image \"127.0.0.1:9/no-such-image:1\"");
        await EventAsync("ghost", "Failed to pull image");
        await _kubectl.RunAsync("delete", "pod", "ghost", "--wait=false");
    }

    [NodeAgentFact]
    public async Task ContainerdKilled_PodKeepsServingAndIsAdopted()
    {
        await ApplyAsync(Pod("steady", Httpd), "pod/steady created");
        var before = await WaitForAsync("pod", "steady", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        var containerId = before.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("containerID").GetString();
        var url = $"http://{before.GetProperty("status").GetProperty("podIP").GetString()}:8080/";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal("hello-from-lotse", (await GetWithRetryAsync(http, url)).Trim());

        var pid = int.Parse(File.ReadAllText(fixture.ContainerdPidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using (var containerd = System.Diagnostics.Process.GetProcessById(pid))
        {
            containerd.Kill();
            await containerd.WaitForExitAsync();
        }

        // The container does not depend on containerd: it serves while containerd is away.
        Assert.Equal("hello-from-lotse", (await http.GetStringAsync(url)).Trim());
        var deadline = DateTime.UtcNow + Timeout;
        while (File.ReadAllText(fixture.ContainerdPidFile).Trim() == pid.ToString(System.Globalization.CultureInfo.InvariantCulture) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.NotEqual(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(fixture.ContainerdPidFile).Trim());
        using var cri = fixture.Cri();
        var uid = before.GetProperty("metadata").GetProperty("uid").GetString()!;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await ContainersOfAsync(cri, uid)).Any(c => c.State == ContainerState.ContainerRunning))
                {
                    break;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // containerd is still starting
            }

            await Task.Delay(200);
        }

        // Adopted, not recreated: the same container, no restart.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = await GetAsync("pod", "steady");
        var status = after.GetProperty("status").GetProperty("containerStatuses")[0];
        Assert.Equal(containerId, status.GetProperty("containerID").GetString());
        Assert.Equal(0, status.GetProperty("restartCount").GetInt32());
        Assert.Equal("Running", after.GetProperty("status").GetProperty("phase").GetString());
        Assert.Equal("hello-from-lotse", (await http.GetStringAsync(url)).Trim());
        await _kubectl.RunAsync("delete", "pod", "steady");
    }

    private static string? Waiting(JsonElement pod) => PodWaits.Waiting(pod);

    private static string Message(JsonElement pod) => PodWaits.Message(pod);

    private static async Task<List<Container>> ContainersOfAsync(Lotse.Agent.Cri.CriClient cri, string uid) =>
        [.. (await cri.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { LabelSelector = { ["io.kubernetes.pod.uid"] = uid } } })).Containers];

    private async Task ApplyAsync(string manifest, string expected)
    {
        var (exit, output, error) = await _kubectl.RunWithInputAsync(manifest, "apply", "-f", "-");
        Assert.True(exit == 0, error);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    private Task<JsonElement> GetAsync(string kind, string name) => _kubectl.GetJsonAsync(kind, name);

    private Task<JsonElement> WaitForAsync(string kind, string name, Func<JsonElement, bool> condition) => _kubectl.WaitForAsync(kind, name, condition);

    private async Task<string> DescribeAsync(string name) => (await _kubectl.RunAsync("describe", "pod", name)).Stdout;

    private static async Task<string> GetWithRetryAsync(HttpClient http, string url)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await http.GetStringAsync(url);
            }
            catch (HttpRequestException) when (attempt < 20)
            {
                await Task.Delay(250); // httpd is still starting
            }
        }
    }
}
