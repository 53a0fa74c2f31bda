using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Lotse.Controllers.Runtime;

/// <summary>kube's DisruptionTarget pod condition, which controllers set before they delete a pod (and why).</summary>
public static class DisruptionTarget
{
    /// <summary>
    /// Sets the condition on the pod's status (other conditions kept; a pod not yet finished marked
    /// Failed when <paramref name="failed"/>), ignoring a pod that is gone.
    /// </summary>
    public static Task MarkAsync(IKubernetes client, V1Pod pod, string reason, string message, DateTimeOffset now, bool failed, CancellationToken cancellationToken)
    {
        var conditions = new JsonArray();
        foreach (var condition in pod.Status?.Conditions?.Where(c => c.Type != "DisruptionTarget") ?? [])
        {
            conditions.Add(JsonNode.Parse(KubernetesJson.Serialize(condition)));
        }

        conditions.Add(new JsonObject
        {
            ["type"] = "DisruptionTarget",
            ["status"] = "True",
            ["lastTransitionTime"] = KubeTime.Format(now),
            ["reason"] = reason,
            ["message"] = message,
        });
        var status = new JsonObject { ["conditions"] = conditions };
        if (failed && pod.Status?.Phase is not ("Succeeded" or "Failed"))
        {
            status["phase"] = "Failed";
        }

        var patch = new JsonObject { ["status"] = status };
        return ApiCalls.IgnoreNotFoundAsync(client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }
}
