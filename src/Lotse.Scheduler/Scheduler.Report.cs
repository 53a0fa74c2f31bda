using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Events;
using Microsoft.Extensions.Logging;

namespace Lotse.Scheduler;

public sealed partial class Scheduler
{
    /// <summary>
    /// An unschedulable pod: remembered (moved back on cluster changes), retried after a back-off,
    /// and told — one FailedScheduling event and a PodScheduled=False condition — only when the
    /// message changed, so a pod that stays stuck does not produce a stream of writes.
    /// </summary>
    private async Task ReportUnschedulableAsync(V1Pod pod, string key, string message, CancellationToken cancellationToken)
    {
        bool changed;
        lock (_gate)
        {
            changed = !_unschedulable.TryGetValue(key, out var previous) || previous != message;
            _unschedulable[key] = message;
            SchedulerMetrics.Waiting.Set(_unschedulable.Count);
        }

        _queue.AddRateLimited(key);
        var condition = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (!changed && condition?.Message == message)
        {
            return;
        }

        _events.Record(pod, EventRecorder.Warning, "FailedScheduling", message, action: "Scheduling");
        if (condition?.Status != "False" || condition.Message != message)
        {
            var patch = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["conditions"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "PodScheduled",
                        ["status"] = "False",
                        ["reason"] = "Unschedulable",
                        ["message"] = message,
                        ["lastProbeTime"] = null,
                        ["lastTransitionTime"] = Timestamp(),
                    }),
                },
            };
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
    }

    private string Timestamp() => _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "scheduler started")]
    private static partial void LogStarted(ILogger logger);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "scheduling {Pod} failed, retrying: {Error}")]
    private static partial void LogFailed(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "binding {Pod} to {Node} failed, retrying: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string pod, string node, string error);
}
