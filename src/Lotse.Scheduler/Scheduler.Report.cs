using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
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
        }

        _queue.AddRateLimited(key);
        var condition = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (!changed && condition?.Message == message)
        {
            return;
        }

        Record(pod, "Warning", "FailedScheduling", "Scheduling", message, cancellationToken);
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

    /// <summary>
    /// Records an event in the background, like kube's event broadcaster: scheduling never waits for
    /// it, and when too many are already on their way the new one is dropped rather than queued.
    /// </summary>
    private void Record(V1Pod pod, string type, string reason, string action, string message, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _eventsInFlight) > MaxEventsInFlight)
        {
            Interlocked.Decrement(ref _eventsInFlight);
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await EventAsync(pod, type, reason, action, message, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _eventsInFlight);
            }
        }, CancellationToken.None);
    }

    private const int MaxEventsInFlight = 256;

    private async Task EventAsync(V1Pod pod, string type, string reason, string action, string message, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{pod.Metadata.Name}.{now.Ticks:x}",
                NamespaceProperty = pod.Metadata.NamespaceProperty,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = "v1",
                Kind = "Pod",
                NamespaceProperty = pod.Metadata.NamespaceProperty,
                Name = pod.Metadata.Name,
                Uid = pod.Metadata.Uid,
                ResourceVersion = pod.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Action = action,
            Message = message,
            Source = new V1EventSource { Component = DefaultName },
            ReportingComponent = DefaultName,
            ReportingInstance = $"{DefaultName}-{Environment.MachineName}",
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await _client.CoreV1.CreateNamespacedEventAsync(ev, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // events are best effort (as in kube): losing one must not fail scheduling
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogEventFailed(_logger, pod.Metadata.Name, e.Message);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "scheduler started")]
    private static partial void LogStarted(ILogger logger);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "scheduling {Pod} failed, retrying: {Error}")]
    private static partial void LogFailed(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "binding {Pod} to {Node} failed, retrying: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string pod, string node, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "recording an event for {Pod} failed: {Error}")]
    private static partial void LogEventFailed(ILogger logger, string pod, string error);
}
