using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Job;

public sealed partial class JobController
{
    private static int? NullIfZero(int value) => value == 0 ? null : value;

    private static string Timestamp(DateTimeOffset time) => KubeTime.Format(time);

    private static JsonObject Condition(string type, string reason, string message, DateTimeOffset now, string status = "True") => new()
    {
        ["type"] = type,
        ["status"] = status,
        ["lastProbeTime"] = Timestamp(now),
        ["lastTransitionTime"] = Timestamp(now),
        ["reason"] = reason,
        ["message"] = message,
    };

    /// <summary>Writes the status when anything changed; new conditions replace those of the same type.</summary>
    private async Task UpdateStatusAsync(V1Job job, JsonObject status, List<JsonObject> conditions, CancellationToken cancellationToken)
    {
        var current = JsonNode.Parse(KubernetesJson.Serialize(job.Status ?? new V1JobStatus())) as JsonObject ?? [];
        var changed = conditions.Count > 0;
        foreach (var (name, value) in status)
        {
            if (!JsonNode.DeepEquals(current[name], value) && !(value is null && current[name] is null))
            {
                changed = true;
            }
        }

        if (!changed)
        {
            return;
        }

        if (conditions.Count > 0)
        {
            var list = new JsonArray();
            foreach (var existing in job.Status?.Conditions ?? [])
            {
                if (conditions.All(c => c["type"]!.GetValue<string>() != existing.Type))
                {
                    list.Add(JsonNode.Parse(KubernetesJson.Serialize(existing)));
                }
            }

            foreach (var condition in conditions)
            {
                list.Add(condition);
            }

            status["conditions"] = list;
        }

        var patch = new JsonObject { ["status"] = status };
        await ApiCalls.IgnoreNotFoundAsync(_client.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), job.Metadata.Name, job.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }
}
