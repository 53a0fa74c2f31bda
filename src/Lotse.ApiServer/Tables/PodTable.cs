using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tables;

/// <summary>The pod row kubectl shows (kubernetes' printPod): READY, STATUS with its reason logic, RESTARTS with the last one's age.</summary>
internal static class PodTable
{
    public static string Ready(JsonObject pod)
    {
        var total = J.Objects(pod, "spec.containers").Count();
        var ready = J.Objects(pod, "status.containerStatuses").Count(s => J.Bool(s, "ready"));
        return $"{ready}/{total}";
    }

    public static string Status(JsonObject pod)
    {
        var reason = J.Str(pod, "status.reason") ?? J.Str(pod, "status.phase") ?? "Pending";
        var initContainers = J.Objects(pod, "spec.initContainers").Count();
        var initializing = false;
        var i = 0;
        foreach (var status in J.Objects(pod, "status.initContainerStatuses"))
        {
            var terminated = J.At(status, "state.terminated");
            var waiting = J.At(status, "state.waiting");
            if (terminated is not null && J.Int(terminated, "exitCode") == 0)
            {
                i++;
                continue;
            }

            if (terminated is not null)
            {
                reason = J.Str(terminated, "reason") is { Length: > 0 } r ? "Init:" + r
                    : J.Int(terminated, "signal") != 0 ? $"Init:Signal:{J.Int(terminated, "signal")}"
                    : $"Init:ExitCode:{J.Int(terminated, "exitCode")}";
            }
            else if (waiting is not null && J.Str(waiting, "reason") is { Length: > 0 } w && w != "PodInitializing")
            {
                reason = "Init:" + w;
            }
            else
            {
                reason = $"Init:{i}/{initContainers}";
            }

            initializing = true;
            break;
        }

        if (!initializing)
        {
            var hasRunning = false;
            foreach (var status in J.Objects(pod, "status.containerStatuses").Reverse())
            {
                var waitingReason = J.Str(status, "state.waiting.reason");
                var terminated = J.At(status, "state.terminated");
                if (!string.IsNullOrEmpty(waitingReason))
                {
                    reason = waitingReason;
                }
                else if (terminated is not null)
                {
                    reason = J.Str(terminated, "reason") is { Length: > 0 } r ? r
                        : J.Int(terminated, "signal") != 0 ? $"Signal:{J.Int(terminated, "signal")}"
                        : $"ExitCode:{J.Int(terminated, "exitCode")}";
                }
                else if (J.At(status, "state.running") is not null && J.Bool(status, "ready"))
                {
                    hasRunning = true;
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                var ready = J.Objects(pod, "status.conditions").Any(c => J.Str(c, "type") == "Ready" && J.Str(c, "status") == "True");
                reason = ready ? "Running" : "NotReady";
            }
        }

        if (J.At(pod, "metadata.deletionTimestamp") is not null)
        {
            reason = J.Str(pod, "status.reason") == "NodeLost" ? "Unknown" : "Terminating";
        }

        return reason;
    }

    public static string Restarts(JsonObject pod, DateTimeOffset now)
    {
        long restarts = 0;
        DateTimeOffset? last = null;
        foreach (var status in J.Objects(pod, "status.initContainerStatuses").Concat(J.Objects(pod, "status.containerStatuses")))
        {
            restarts += J.Int(status, "restartCount");
            if (DateTimeOffset.TryParse(J.Str(status, "lastState.terminated.finishedAt"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var finished)
                && (last is null || finished > last))
            {
                last = finished;
            }
        }

        return last is { } at && restarts > 0 ? $"{restarts} ({HumanDuration.Format(now - at)} ago)" : restarts.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string ReadinessGates(JsonObject pod)
    {
        var gates = J.Objects(pod, "spec.readinessGates").Select(g => J.Str(g, "conditionType")).ToList();
        if (gates.Count == 0)
        {
            return "<none>";
        }

        var met = gates.Count(g => J.Objects(pod, "status.conditions").Any(c => J.Str(c, "type") == g && J.Str(c, "status") == "True"));
        return $"{met}/{gates.Count}";
    }
}
