using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Lotse.Controllers.DaemonSet;

/// <summary>The status <c>kubectl rollout status daemonset</c> reads.</summary>
public sealed partial class DaemonSetController
{
    private async Task UpdateStatusAsync(V1DaemonSet set, DaemonPlan plan, CancellationToken cancellationToken)
    {
        var unavailable = plan.Desired - plan.Available;
        if (set.Status is { } old && old.DesiredNumberScheduled == plan.Desired && old.CurrentNumberScheduled == plan.CurrentScheduled
            && old.NumberMisscheduled == plan.Misscheduled && old.NumberReady == plan.Ready && (old.NumberAvailable ?? 0) == plan.Available
            && (old.NumberUnavailable ?? 0) == unavailable && (old.UpdatedNumberScheduled ?? 0) == plan.UpdatedScheduled
            && old.ObservedGeneration == set.Metadata.Generation)
        {
            return;
        }

        var patch = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["desiredNumberScheduled"] = plan.Desired,
                ["currentNumberScheduled"] = plan.CurrentScheduled,
                ["numberMisscheduled"] = plan.Misscheduled,
                ["numberReady"] = plan.Ready,
                ["numberAvailable"] = plan.Available == 0 ? null : plan.Available,
                ["numberUnavailable"] = unavailable == 0 ? null : unavailable,
                ["updatedNumberScheduled"] = plan.UpdatedScheduled == 0 ? null : plan.UpdatedScheduled,
                ["observedGeneration"] = set.Metadata.Generation,
            },
        };
        try
        {
            await _client.AppsV1.PatchNamespacedDaemonSetStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile.
        }
    }
}
