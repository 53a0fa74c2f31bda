using k8s.Models;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet;

namespace Lotse.Agent.Tests.Kubelet;

public sealed class PodStatusBuilderTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);

    private static V1Pod Pod(string restartPolicy, params string[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u" },
        Spec = new V1PodSpec { RestartPolicy = restartPolicy, Containers = [.. containers.Select(c => new V1Container { Name = c, Image = "busybox:1" })] },
        Status = new V1PodStatus { Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True" }] },
    };

    private static ContainerStatus Container(string name, ContainerState state, uint attempt = 0, int exitCode = 0, string reason = "") => new()
    {
        Id = $"{name}-{attempt}",
        Metadata = new ContainerMetadata { Name = name, Attempt = attempt },
        State = state,
        ExitCode = exitCode,
        Reason = reason,
        StartedAt = Now.AddMinutes(-1).ToUnixTimeMilliseconds() * 1_000_000,
        FinishedAt = state == ContainerState.ContainerExited ? Now.ToUnixTimeMilliseconds() * 1_000_000 : 0,
        ImageRef = "sha256:abc",
    };

    private static PodRuntime Runtime(params ContainerStatus[] containers) =>
        new(new PodSandboxStatus { Id = "s", State = PodSandboxState.SandboxReady, Metadata = new PodSandboxMetadata(), Network = new PodSandboxNetworkStatus { Ip = "10.42.0.9" } }, containers);

    [Theory]
    [InlineData("Always", "running", 0, "Running")]
    [InlineData("Always", "exited", 1, "Running")]
    [InlineData("Never", "exited", 0, "Succeeded")]
    [InlineData("Never", "exited", 2, "Failed")]
    [InlineData("OnFailure", "exited", 0, "Succeeded")]
    [InlineData("OnFailure", "exited", 1, "Running")]
    [InlineData("Always", "created", 0, "Pending")]
    public void Phase_FollowsTheKubeletsRules(string policy, string state, int exitCode, string expected)
    {
        var runtimeState = state switch { "running" => ContainerState.ContainerRunning, "exited" => ContainerState.ContainerExited, _ => ContainerState.ContainerCreated };
        Assert.Equal(expected, PodStatusBuilder.Phase(Pod(policy, "c"), Runtime(Container("c", runtimeState, exitCode: exitCode)), initialized: true));
    }

    [Fact]
    public void RunningPod_IsReadyWithItsAddressesAndContainerIds()
    {
        var status = PodStatusBuilder.Build(Pod("Always", "a", "b"), Runtime(Container("a", ContainerState.ContainerRunning), Container("b", ContainerState.ContainerRunning)), "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        Assert.Equal("Running", status["phase"]!.GetValue<string>());
        Assert.Equal("10.42.0.9", status["podIP"]!.GetValue<string>());
        Assert.Equal("192.0.2.1", status["hostIP"]!.GetValue<string>());
        Assert.Equal("BestEffort", status["qosClass"]!.GetValue<string>());
        var conditions = status["conditions"]!.AsArray().ToDictionary(c => c!["type"]!.GetValue<string>(), c => c!["status"]!.GetValue<string>());
        Assert.Equal("True", conditions["Ready"]);
        Assert.Equal("True", conditions["ContainersReady"]);
        Assert.Equal("True", conditions["Initialized"]);
        Assert.Equal("True", conditions["PodReadyToStartContainers"]);
        Assert.Equal("True", conditions["PodScheduled"]);
        var first = status["containerStatuses"]![0]!;
        Assert.Equal("containerd://a-0", first["containerID"]!.GetValue<string>());
        Assert.True(first["ready"]!.GetValue<bool>());
        Assert.NotNull(first["state"]!["running"]);
    }

    [Fact]
    public void ProbeResults_GateReadyAndStarted()
    {
        var runtime = Runtime(Container("c", ContainerState.ContainerRunning)) with { Probes = new Dictionary<string, ProbeResult> { ["c-0"] = new(Ready: false, Started: true) } };
        var status = PodStatusBuilder.Build(Pod("Always", "c"), runtime, "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        var container = status["containerStatuses"]![0]!;
        Assert.False(container["ready"]!.GetValue<bool>());
        Assert.True(container["started"]!.GetValue<bool>());
        Assert.Equal("Running", status["phase"]!.GetValue<string>());

        var starting = runtime with { Probes = new Dictionary<string, ProbeResult> { ["c-0"] = new(Ready: true, Started: false) } };
        var notStarted = PodStatusBuilder.Build(Pod("Always", "c"), starting, "192.0.2.1", Now, new Dictionary<string, (string, string)>())["containerStatuses"]![0]!;
        Assert.False(notStarted["started"]!.GetValue<bool>());
        Assert.False(notStarted["ready"]!.GetValue<bool>());
    }

    [Fact]
    public void CrashLooping_ShowsWaitingReasonLastTerminationAndRestarts()
    {
        var runtime = Runtime(Container("c", ContainerState.ContainerExited, attempt: 1, exitCode: 3, reason: "Error"), Container("c", ContainerState.ContainerExited, attempt: 0, exitCode: 3));
        var waiting = new Dictionary<string, (string, string)> { ["c"] = ("CrashLoopBackOff", "back-off 10s restarting failed container=c pod=p_default(u)") };
        var status = PodStatusBuilder.Build(Pod("Always", "c"), runtime, "192.0.2.1", Now, waiting);
        var container = status["containerStatuses"]![0]!;
        Assert.Equal("CrashLoopBackOff", container["state"]!["waiting"]!["reason"]!.GetValue<string>());
        Assert.Equal(1, container["restartCount"]!.GetValue<int>());
        Assert.Equal(3, container["lastState"]!["terminated"]!["exitCode"]!.GetValue<int>());
        Assert.False(container["ready"]!.GetValue<bool>());
        var ready = status["conditions"]!.AsArray().First(c => c!["type"]!.GetValue<string>() == "Ready")!;
        Assert.Equal("False", ready["status"]!.GetValue<string>());
        Assert.Equal("containers with unready status: [c]", ready["message"]!.GetValue<string>());
    }

    [Fact]
    public void OomKilled_AndFinishedPhaseIsSticky()
    {
        var pod = Pod("Never", "c");
        var status = PodStatusBuilder.Build(pod, Runtime(Container("c", ContainerState.ContainerExited, exitCode: 137, reason: "OOMKilled")), "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        Assert.Equal("Failed", status["phase"]!.GetValue<string>());
        Assert.Equal("OOMKilled", status["containerStatuses"]![0]!["state"]!["terminated"]!["reason"]!.GetValue<string>());

        pod.Status.Phase = "Failed";
        var later = PodStatusBuilder.Build(pod, PodRuntime.Empty, "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        Assert.Equal("Failed", later["phase"]!.GetValue<string>());
    }

    [Fact]
    public void InitContainers_HoldThePodPendingUntilTheySucceed()
    {
        var pod = Pod("Always", "main");
        pod.Spec.InitContainers = [new V1Container { Name = "setup", Image = "busybox:1" }];
        var status = PodStatusBuilder.Build(pod, Runtime(Container("setup", ContainerState.ContainerRunning)), "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        Assert.Equal("Pending", status["phase"]!.GetValue<string>());
        Assert.Equal("PodInitializing", status["containerStatuses"]![0]!["state"]!["waiting"]!["reason"]!.GetValue<string>());
        var initialized = status["conditions"]!.AsArray().First(c => c!["type"]!.GetValue<string>() == "Initialized")!;
        Assert.Equal("containers with incomplete status: [setup]", initialized["message"]!.GetValue<string>());

        var done = PodStatusBuilder.Build(pod, Runtime(Container("setup", ContainerState.ContainerExited), Container("main", ContainerState.ContainerRunning)), "192.0.2.1", Now, new Dictionary<string, (string, string)>());
        Assert.Equal("Running", done["phase"]!.GetValue<string>());
        Assert.Equal("Completed", done["initContainerStatuses"]![0]!["state"]!["terminated"]!["reason"]!.GetValue<string>());
    }
}

public sealed class EvictionStatusTests
{
    [Fact]
    public void AnEvictedPod_FailsWithTheReason_AndIsADisruptionTargetOnce()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u" },
            Spec = new V1PodSpec { RestartPolicy = "Always", Containers = [new V1Container { Name = "c", Image = "busybox" }] },
        };
        var now = new DateTimeOffset(2026, 12, 4, 8, 0, 0, TimeSpan.Zero);
        var runtime = new PodRuntime(new PodSandboxStatus { Id = "s", State = PodSandboxState.SandboxNotready, Metadata = new PodSandboxMetadata() }, []);
        const string Message = "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". ";
        var status = PodStatusBuilder.Build(pod, runtime, "192.0.2.1", now, new Dictionary<string, (string, string)>(), (PodStatusBuilder.Evicted, Message));
        Assert.Equal(("Failed", "Evicted", Message), (status["phase"]!.GetValue<string>(), status["reason"]!.GetValue<string>(), status["message"]!.GetValue<string>()));
        var target = Assert.Single(status["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "DisruptionTarget")!;
        Assert.Equal(("True", "TerminationByKubelet", Message), (target["status"]!.GetValue<string>(), target["reason"]!.GetValue<string>(), target["message"]!.GetValue<string>()));

        // Written once: the next status keeps the condition (and its time) instead of adding another.
        pod.Status = k8s.KubernetesJson.Deserialize<V1PodStatus>(status.ToJsonString());
        var again = PodStatusBuilder.Build(pod, runtime, "192.0.2.1", now.AddMinutes(1), new Dictionary<string, (string, string)>(), (PodStatusBuilder.Evicted, Message));
        Assert.Single(again["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "DisruptionTarget");
    }
}
