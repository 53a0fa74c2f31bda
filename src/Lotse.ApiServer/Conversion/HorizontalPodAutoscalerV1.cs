using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Conversion;

/// <summary>
/// autoscaling/v1 HorizontalPodAutoscalers as kube converts them to and from v2, the stored
/// version: <c>targetCPUUtilizationPercentage</c> is the CPU utilization metric and
/// <c>currentCPUUtilizationPercentage</c> its current value; what v1 cannot say (other metrics,
/// behavior, conditions) rides in kube's <c>autoscaling.alpha.kubernetes.io/*</c> annotations, so a
/// v1 client's round trip loses nothing.
/// </summary>
public sealed class HorizontalPodAutoscalerV1 : VersionConversion
{
    private const string MetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
    private const string CurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
    private const string BehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
    private const string ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";

    public override string StorageVersion => "v2";

    public override CachedObject Present(CachedObject stored)
    {
        if (stored.Object["apiVersion"]?.GetValue<string>() == "autoscaling/v1")
        {
            return stored;
        }

        var obj = stored.CloneObject();
        obj["apiVersion"] = "autoscaling/v1";
        var annotations = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (obj["spec"] is JsonObject spec)
        {
            var metrics = Take(spec, "metrics") as JsonArray ?? [];
            var cpu = metrics.OfType<JsonObject>().FirstOrDefault(IsCpuUtilization);
            if (cpu?["resource"]?["target"]?["averageUtilization"] is { } target)
            {
                spec["targetCPUUtilizationPercentage"] = target.DeepClone();
            }

            var others = new JsonArray([.. metrics.OfType<JsonObject>().Where(m => m != cpu).Select(m => (JsonNode)m.DeepClone())]);
            annotations[MetricsAnnotation] = others.Count > 0 ? others : null;
            annotations[BehaviorAnnotation] = Take(spec, "behavior");
        }

        if (obj["status"] is JsonObject status)
        {
            var current = Take(status, "currentMetrics") as JsonArray ?? [];
            var cpu = current.OfType<JsonObject>().FirstOrDefault(m => m["type"]?.GetValue<string>() == "Resource" && m["resource"]?["name"]?.GetValue<string>() == "cpu");
            if (cpu?["resource"]?["current"]?["averageUtilization"] is { } utilization)
            {
                status["currentCPUUtilizationPercentage"] = utilization.DeepClone();
            }

            var others = new JsonArray([.. current.OfType<JsonObject>().Where(m => m != cpu).Select(m => (JsonNode)m.DeepClone())]);
            annotations[CurrentMetricsAnnotation] = others.Count > 0 ? others : null;
            annotations[ConditionsAnnotation] = Take(status, "conditions");
        }

        if (annotations.Values.Any(v => v is not null))
        {
            var metadata = obj["metadata"] as JsonObject ?? [];
            var existing = metadata["annotations"] as JsonObject ?? [];
            foreach (var (key, value) in annotations.Where(a => a.Value is not null))
            {
                existing[key] = value!.ToJsonString();
            }

            metadata["annotations"] = existing;
        }

        return CachedObject.FromObject(stored.Key, obj, stored.Revision, stored.CreateRevision);
    }

    public override JsonObject ToStorage(JsonObject obj)
    {
        obj["apiVersion"] = "autoscaling/v2";
        var annotations = obj["metadata"]?["annotations"] as JsonObject;
        if (obj["spec"] is JsonObject spec)
        {
            var metrics = new JsonArray();
            if (Take(spec, "targetCPUUtilizationPercentage") is { } target)
            {
                metrics.Add(new JsonObject
                {
                    ["type"] = "Resource",
                    ["resource"] = new JsonObject { ["name"] = "cpu", ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = target } },
                });
            }

            foreach (var metric in Annotation(annotations, MetricsAnnotation) as JsonArray ?? [])
            {
                metrics.Add(metric?.DeepClone());
            }

            if (metrics.Count > 0)
            {
                spec["metrics"] = metrics;
            }

            if (Annotation(annotations, BehaviorAnnotation) is { } behavior)
            {
                spec["behavior"] = behavior;
            }
        }

        if (obj["status"] is JsonObject status)
        {
            var current = new JsonArray();
            if (Take(status, "currentCPUUtilizationPercentage") is { } utilization)
            {
                current.Add(new JsonObject
                {
                    ["type"] = "Resource",
                    ["resource"] = new JsonObject { ["name"] = "cpu", ["current"] = new JsonObject { ["averageUtilization"] = utilization } },
                });
            }

            foreach (var metric in Annotation(annotations, CurrentMetricsAnnotation) as JsonArray ?? [])
            {
                current.Add(metric?.DeepClone());
            }

            if (current.Count > 0)
            {
                status["currentMetrics"] = current;
            }

            if (Annotation(annotations, ConditionsAnnotation) is { } conditions)
            {
                status["conditions"] = conditions;
            }
        }

        foreach (var key in (string[])[MetricsAnnotation, CurrentMetricsAnnotation, BehaviorAnnotation, ConditionsAnnotation])
        {
            annotations?.Remove(key);
        }

        if (annotations is { Count: 0 })
        {
            (obj["metadata"] as JsonObject)?.Remove("annotations");
        }

        return obj;
    }

    private static bool IsCpuUtilization(JsonObject metric) =>
        metric["type"]?.GetValue<string>() == "Resource" && metric["resource"]?["name"]?.GetValue<string>() == "cpu" && metric["resource"]?["target"]?["type"]?.GetValue<string>() == "Utilization";

    private static JsonNode? Take(JsonObject obj, string name)
    {
        var value = obj[name];
        obj.Remove(name);
        return value;
    }

    /// <summary>A JSON annotation's value; one that is not JSON is left out (as kube ignores it).</summary>
    private static JsonNode? Annotation(JsonObject? annotations, string key)
    {
        try
        {
            return annotations?[key]?.GetValue<string>() is { } text ? JsonNode.Parse(text) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
