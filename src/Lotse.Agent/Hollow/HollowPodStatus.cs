using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;

namespace Lotse.Agent.Hollow;

/// <summary>
/// The status a kubelet would report for a pod, without running anything: Running and Ready (or,
/// for pods annotated with an exit code, Succeeded or Failed), with fake addresses that are never
/// routed (100.64.0.0/10: 256 pod addresses per node, node addresses from 100.127.0.0/16).
/// </summary>
public static class HollowPodStatus
{
    public const string ExitCodeAnnotation = "lotse.io/hollow-exit-code";
    public const string RunSecondsAnnotation = "lotse.io/hollow-run-seconds";

    public static string NodeIp(int index) => $"100.127.{(index / 256) % 256}.{index % 256}";

    public static string PodIp(int nodeIndex, int podNumber)
    {
        var value = ((100u << 24) | (64u << 16)) + ((uint)nodeIndex * 256) + (uint)(podNumber % 254) + 1;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]).ToString();
    }

    /// <summary>The exit code the pod asks to finish with, for pods that do not restart; null for pods that run on.</summary>
    public static int? ExitCode(V1Pod pod) =>
        pod.Spec?.RestartPolicy is "Never" or "OnFailure"
        && pod.Metadata.Annotations?.TryGetValue(ExitCodeAnnotation, out var text) == true
        && int.TryParse(text, CultureInfo.InvariantCulture, out var code) ? code : null;

    public static TimeSpan RunTime(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(RunSecondsAnnotation, out var text) == true && double.TryParse(text, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.Zero;

    /// <summary>The status patch for a pod that started (and, with <paramref name="exitCode"/>, finished).</summary>
    public static JsonObject Build(V1Pod pod, string nodeIp, string podIp, DateTimeOffset now, int? exitCode)
    {
        var time = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var finished = exitCode is not null;
        var ready = finished ? "False" : "True";
        JsonObject Condition(string type, string status, string? reason = null) => new()
        {
            ["type"] = type,
            ["status"] = status,
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = time,
            ["reason"] = reason,
        };
        JsonObject ContainerStatus(V1Container c, bool init)
        {
            JsonObject state = (finished || init)
                ? new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = init ? 0 : exitCode, ["reason"] = init || exitCode == 0 ? "Completed" : "Error", ["startedAt"] = time, ["finishedAt"] = time, ["containerID"] = $"hollow://{pod.Metadata.Uid}-{c.Name}" } }
                : new JsonObject { ["running"] = new JsonObject { ["startedAt"] = time } };
            return new JsonObject
            {
                ["name"] = c.Name,
                ["image"] = c.Image,
                ["imageID"] = $"hollow://{c.Image}",
                ["containerID"] = $"hollow://{pod.Metadata.Uid}-{c.Name}",
                ["ready"] = !finished && !init,
                ["started"] = !finished && !init,
                ["restartCount"] = 0,
                ["state"] = state,
            };
        }

        var status = new JsonObject
        {
            ["phase"] = exitCode switch { null => "Running", 0 => "Succeeded", _ => "Failed" },
            ["conditions"] = new JsonArray(
                Condition("PodReadyToStartContainers", finished ? "False" : "True"),
                Condition("Initialized", "True"),
                Condition("Ready", ready, finished ? "PodCompleted" : null),
                Condition("ContainersReady", ready, finished ? "PodCompleted" : null),
                Condition("PodScheduled", "True")),
            ["hostIP"] = nodeIp,
            ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = nodeIp }),
            ["podIP"] = podIp,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp }),
            ["startTime"] = time,
            ["qosClass"] = Kubelet.RuntimeConfigs.QosClass(pod),
            ["containerStatuses"] = new JsonArray([.. (pod.Spec?.Containers ?? []).Select(c => (JsonNode)ContainerStatus(c, init: false))]),
        };
        if (pod.Spec?.InitContainers is { Count: > 0 } inits)
        {
            status["initContainerStatuses"] = new JsonArray([.. inits.Select(c => (JsonNode)ContainerStatus(c, init: true))]);
        }

        return new JsonObject { ["status"] = status };
    }
}
