using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler;

public sealed partial class Scheduler
{
    /// <summary>
    /// Evicts the chosen victims as kube-scheduler does — each first marked DisruptionTarget
    /// (PreemptionByScheduler), then deleted with its grace period, a Preempted event on it — and
    /// nominates the node on the preemptor's status; the preemptor is scheduled once they are gone.
    /// </summary>
    private async Task PreemptAsync(V1Pod preemptor, Preemption.Candidate candidate, CancellationToken cancellationToken)
    {
        var node = candidate.Node.Name;
        await Task.WhenAll(candidate.Victims.Select(async victim =>
        {
            var pod = victim.Pod;
            try
            {
                var condition = new JsonObject
                {
                    ["status"] = new JsonObject
                    {
                        ["conditions"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "DisruptionTarget",
                            ["status"] = "True",
                            ["reason"] = "PreemptionByScheduler",
                            ["message"] = $"{DefaultName}: preempting to accommodate a higher priority pod",
                            ["lastTransitionTime"] = Timestamp(),
                        }),
                    },
                };
                await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(condition.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                await _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
                _events.Record(pod, EventRecorder.Normal, "Preempted", $"Preempted by pod {preemptor.Metadata.Uid} on node {node}", action: "Preempting");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                // Gone already, or replaced by a pod of the same name.
            }
        }));

        if (preemptor.Status?.NominatedNodeName != node)
        {
            var nominate = new JsonObject { ["status"] = new JsonObject { ["nominatedNodeName"] = node } };
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(nominate.ToJsonString(), V1Patch.PatchType.MergePatch), preemptor.Metadata.Name, preemptor.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
    }
}
