using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Kubelet;

/// <summary>What the runtime holds of one pod: its newest sandbox and every container instance it ran.</summary>
internal sealed record PodRuntime(PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers)
{
    public static readonly PodRuntime Empty = new(null, []);

    /// <summary>What the probes say of running containers, by container id (absent: no probes, ready once running).</summary>
    public IReadOnlyDictionary<string, ProbeResult> Probes { get; init; } = new Dictionary<string, ProbeResult>();

    /// <summary>The newest instance of a container, and the one before it.</summary>
    public (ContainerStatus? Latest, ContainerStatus? Previous) Instances(string name)
    {
        ContainerStatus? latest = null, previous = null;
        foreach (var status in Containers.Where(c => c.Metadata.Name == name).OrderByDescending(c => c.Metadata.Attempt).ThenByDescending(c => c.CreatedAt))
        {
            if (latest is null)
            {
                latest = status;
            }
            else
            {
                previous = status;
                break;
            }
        }

        return (latest, previous);
    }

    public string PodIp => Sandbox?.State == PodSandboxState.SandboxReady ? Sandbox.Network?.Ip ?? string.Empty : string.Empty;
}

/// <summary>
/// The pod status the kubelet reports, from the pod and what the runtime holds: phase by the
/// kubelet's rules, the conditions (PodReadyToStartContainers, Initialized, ContainersReady, Ready;
/// PodScheduled kept), addresses, QoS class and per-container states with restart counts and the
/// last termination. Waiting reasons the agent decided (image pulls, back-off, config errors) are
/// passed in.
/// </summary>
internal static class PodStatusBuilder
{
    /// <param name="failure">Why the agent failed the pod itself (an active deadline), which makes the phase Failed.</param>
    /// <summary>The reason of a pod the kubelet evicted (phase Failed).</summary>
    public const string Evicted = "Evicted";

    public static JsonObject Build(V1Pod pod, PodRuntime runtime, string nodeIp, DateTimeOffset now, IReadOnlyDictionary<string, (string Reason, string Message)> waiting, (string Reason, string Message)? failure = null)
    {
        var spec = pod.Spec;
        var init = (spec.InitContainers ?? []).Select(c => ContainerStatusJson(c, runtime, waiting, pod)).ToList();
        var app = spec.Containers.Select(c => ContainerStatusJson(c, runtime, waiting, pod)).ToList();
        var initialized = (spec.InitContainers ?? []).All(c => Succeeded(runtime.Instances(c.Name).Latest));
        var initFailed = spec.RestartPolicy == "Never" && (spec.InitContainers ?? []).Any(c => runtime.Instances(c.Name).Latest is { State: ContainerState.ContainerExited, ExitCode: not 0 });
        // A finished pod stays finished, whatever the runtime says later.
        var phase = failure is not null ? "Failed" : pod.Status?.Phase is "Succeeded" or "Failed" ? pod.Status.Phase : initFailed ? "Failed" : Phase(pod, runtime, initialized);
        var containersReady = phase == "Running" && app.All(c => c["ready"]!.GetValue<bool>());
        var sandboxReady = runtime.Sandbox?.State == PodSandboxState.SandboxReady;
        var time = Time(now);
        var old = pod.Status?.Conditions ?? [];
        JsonObject Condition(string type, bool status, string? reason = null)
        {
            var value = status ? "True" : "False";
            var previous = old.FirstOrDefault(c => c.Type == type);
            var condition = new JsonObject
            {
                ["type"] = type,
                ["status"] = value,
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = previous?.Status == value && previous.LastTransitionTime is { } at ? Time(at) : time,
            };
            if (reason is not null && !status)
            {
                condition["reason"] = reason;
            }

            return condition;
        }

        var finished = phase is "Succeeded" or "Failed";
        var notReadyReason = finished ? "PodCompleted" : "ContainersNotReady";
        var conditions = new JsonArray(
            Condition("PodReadyToStartContainers", sandboxReady && !finished),
            Condition("Initialized", initialized || finished, "ContainersNotInitialized"),
            Condition("Ready", containersReady, notReadyReason),
            Condition("ContainersReady", containersReady, notReadyReason));
        if (!containersReady && !finished)
        {
            var notReady = spec.Containers.Where((_, i) => !app[i]["ready"]!.GetValue<bool>()).Select(c => c.Name).ToList();
            var message = $"containers with unready status: [{string.Join(' ', notReady)}]";
            ((JsonObject)conditions[2]!)["message"] = message;
            ((JsonObject)conditions[3]!)["message"] = message;
        }

        if (!initialized && !finished)
        {
            var pending = (spec.InitContainers ?? []).Where(c => !Succeeded(runtime.Instances(c.Name).Latest)).Select(c => c.Name);
            ((JsonObject)conditions[1]!)["message"] = $"containers with incomplete status: [{string.Join(' ', pending)}]";
        }

        if (failure is { Reason: Evicted } eviction && old.All(c => c.Type != "DisruptionTarget"))
        {
            // The kubelet's evictions say so, as the API's evictions and preemptions do.
            conditions.Add(new JsonObject
            {
                ["type"] = "DisruptionTarget",
                ["status"] = "True",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = time,
                ["reason"] = "TerminationByKubelet",
                ["message"] = eviction.Message,
            });
        }

        foreach (var kept in old.Where(c => c.Type is not ("PodReadyToStartContainers" or "Initialized" or "Ready" or "ContainersReady")))
        {
            conditions.Add(new JsonObject
            {
                ["type"] = kept.Type,
                ["status"] = kept.Status,
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = kept.LastTransitionTime is { } at ? Time(at) : null,
                ["reason"] = kept.Reason,
                ["message"] = kept.Message,
            });
        }

        var status = new JsonObject
        {
            ["phase"] = phase,
            ["conditions"] = conditions,
            ["hostIP"] = nodeIp,
            ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = nodeIp }),
            ["startTime"] = pod.Status?.StartTime is { } started ? Time(started) : time,
            ["qosClass"] = RuntimeConfigs.QosClass(pod),
            ["containerStatuses"] = new JsonArray([.. app]),
        };
        if (init.Count > 0)
        {
            status["initContainerStatuses"] = new JsonArray([.. init]);
        }

        // Why the pod failed, when something other than its containers decided it; kept once finished.
        if (failure is { } decided)
        {
            status["reason"] = decided.Reason;
            status["message"] = decided.Message;
        }
        else if (finished && pod.Status?.Reason is { } reason)
        {
            status["reason"] = reason;
            status["message"] = pod.Status.Message;
        }

        var podIp = spec.HostNetwork == true ? nodeIp : runtime.PodIp;
        if (podIp.Length > 0)
        {
            status["podIP"] = podIp;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
        }
        else if (pod.Status?.PodIP is { Length: > 0 } kept)
        {
            // Stopped sandboxes forget their address; the pod keeps the one it had.
            status["podIP"] = kept;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = kept });
        }

        return status;
    }

    /// <summary>The kubelet's phase rules (kubelet_pods.go getPhase).</summary>
    internal static string Phase(V1Pod pod, PodRuntime runtime, bool initialized)
    {
        if (!initialized)
        {
            return "Pending";
        }

        int running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var container in pod.Spec.Containers)
        {
            var (latest, previous) = runtime.Instances(container.Name);
            switch (latest?.State)
            {
                case ContainerState.ContainerRunning:
                    running++;
                    break;
                case ContainerState.ContainerExited:
                    stopped++;
                    if (latest.ExitCode == 0)
                    {
                        succeeded++;
                    }

                    break;
                default:
                    if (previous is not null)
                    {
                        stopped++;
                    }
                    else
                    {
                        waiting++;
                    }

                    break;
            }
        }

        if (waiting > 0)
        {
            return "Pending";
        }

        if (running > 0)
        {
            return "Running";
        }

        return pod.Spec.RestartPolicy switch
        {
            "Never" => stopped == succeeded ? "Succeeded" : "Failed",
            "OnFailure" => stopped == succeeded ? "Succeeded" : "Running",
            _ => "Running",
        };
    }

    private static bool Succeeded(ContainerStatus? status) => status is { State: ContainerState.ContainerExited, ExitCode: 0 };

    private static JsonObject ContainerStatusJson(V1Container container, PodRuntime runtime, IReadOnlyDictionary<string, (string Reason, string Message)> waiting, V1Pod pod)
    {
        var (latest, previous) = runtime.Instances(container.Name);
        var running = latest?.State == ContainerState.ContainerRunning;
        var probes = running && runtime.Probes.TryGetValue(latest!.Id, out var result) ? result : new ProbeResult(true, true);
        var status = new JsonObject
        {
            ["name"] = container.Name,
            ["image"] = container.Image,
            ["imageID"] = latest?.ImageRef ?? string.Empty,
            ["ready"] = running && probes.Ready && probes.Started,
            ["restartCount"] = (int)(latest?.Metadata.Attempt ?? 0),
            ["started"] = running && probes.Started,
        };
        if (latest is not null)
        {
            status["containerID"] = "containerd://" + latest.Id;
        }

        if (waiting.TryGetValue(container.Name, out var reason))
        {
            status["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = reason.Reason, ["message"] = reason.Message } };
            status["ready"] = false;
            status["started"] = false;
            if (latest is { State: ContainerState.ContainerExited })
            {
                status["lastState"] = State(latest);
            }
        }
        else if (latest is null)
        {
            var initializing = (pod.Spec.InitContainers ?? []).Any(c => c.Name != container.Name && runtime.Instances(c.Name).Latest is not { State: ContainerState.ContainerExited, ExitCode: 0 })
                && !(pod.Spec.InitContainers ?? []).Any(c => c.Name == container.Name);
            status["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = initializing ? "PodInitializing" : "ContainerCreating" } };
        }
        else
        {
            status["state"] = State(latest);
        }

        status["lastState"] ??= previous is not null ? State(previous) : new JsonObject();
        return status;
    }

    private static JsonObject State(ContainerStatus status) => status.State switch
    {
        ContainerState.ContainerRunning => new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Time(FromNanos(status.StartedAt)) } },
        ContainerState.ContainerExited => new JsonObject
        {
            ["terminated"] = new JsonObject
            {
                ["exitCode"] = status.ExitCode,
                ["reason"] = string.IsNullOrEmpty(status.Reason) ? (status.ExitCode == 0 ? "Completed" : "Error") : status.Reason,
                ["message"] = string.IsNullOrEmpty(status.Message) ? null : status.Message,
                ["startedAt"] = status.StartedAt > 0 ? Time(FromNanos(status.StartedAt)) : null,
                ["finishedAt"] = status.FinishedAt > 0 ? Time(FromNanos(status.FinishedAt)) : null,
                ["containerID"] = "containerd://" + status.Id,
            },
        },
        _ => new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
    };

    internal static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);

    private static string Time(DateTimeOffset time) => Node.NodeApi.Time(time);

    private static string Time(DateTime time) => Time(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)));
}
