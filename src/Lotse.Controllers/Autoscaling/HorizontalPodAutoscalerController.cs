using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Autoscaling;

/// <summary>
/// Kubernetes' horizontal pod autoscaler controller (autoscaling/v2), every 15 s per HPA: reads the
/// target's scale subresource (AbleToScale), keeps its replicas within minReplicas..maxReplicas
/// (SuccessfulRescale), and otherwise would scale on metrics. The resource metrics API
/// (metrics.k8s.io) is not served yet, so metric-driven scaling reports why not, as kube does without
/// a metrics server: ScalingActive False, FailedGetResourceMetric, and <c>&lt;unknown&gt;</c> targets.
/// </summary>
public sealed partial class HorizontalPodAutoscalerController : Controller
{
    private const string NoMetricsApi = "unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)";

    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V2HorizontalPodAutoscaler> _autoscalers;
    private readonly TimeSpan _syncPeriod;

    public HorizontalPodAutoscalerController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, TimeSpan? syncPeriod = null)
        : base("horizontal-pod-autoscaler", loggerFactory.CreateLogger<HorizontalPodAutoscalerController>(), time)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "horizontal-pod-autoscaler");
        _autoscalers = informers.HorizontalPodAutoscalers();
        _syncPeriod = syncPeriod ?? TimeSpan.FromSeconds(15);
        _autoscalers.AddHandler(new InformerHandler<V2HorizontalPodAutoscaler>(h => Queue.Add(ObjectKey.Of(h)), (old, h) =>
        {
            if (old.Metadata.Generation != h.Metadata.Generation)
            {
                Queue.Add(ObjectKey.Of(h));
            }
        }));
    }

    protected override IEnumerable<IInformer> Informers => [_autoscalers];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var hpa = _autoscalers.Get(key);
        if (hpa is null || hpa.Metadata.DeletionTimestamp is not null)
        {
            return Reconciled.Done;
        }

        var now = Time.GetUtcNow();
        var conditions = new Conditions(hpa.Status?.Conditions, now);
        var target = hpa.Spec.ScaleTargetRef;
        var scale = TargetScale.For(_client, target, hpa.Metadata.NamespaceProperty);
        var current = scale is null ? null : await ApiCalls.ReadOrNullAsync(scale.ReadAsync(cancellationToken));

        if (current is null)
        {
            var message = scale is null
                ? $"no matches for kind \"{target.Kind}\" in group \"{TargetScale.GroupOf(target.ApiVersion)}\""
                : $"{TargetScale.Plural(target.Kind)}.{TargetScale.GroupOf(target.ApiVersion)} \"{target.Name}\" not found";
            conditions.Set("AbleToScale", "False", "FailedGetScale", $"the HPA controller was unable to get the target's current scale: {message}");
            _events.Record(hpa, EventRecorder.Warning, "FailedGetScale", message);
            await WriteStatusAsync(hpa, conditions, hpa.Status?.CurrentReplicas ?? 0, hpa.Status?.DesiredReplicas ?? 0, null, cancellationToken);
            return Reconciled.After(_syncPeriod);
        }

        conditions.Set("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");
        var replicas = current.Spec?.Replicas ?? 0;
        var min = hpa.Spec.MinReplicas ?? 1;
        var max = hpa.Spec.MaxReplicas;
        int desired;
        string? reason = null;
        if (replicas == 0 && min != 0)
        {
            desired = 0;
            conditions.Set("ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
        }
        else if (replicas > max)
        {
            (desired, reason) = (max, "Current number of replicas above Spec.MaxReplicas");
        }
        else if (replicas < min)
        {
            (desired, reason) = (min, "Current number of replicas below Spec.MinReplicas");
        }
        else
        {
            // Metric-driven scaling needs the resource metrics API; say so as kube does without one.
            var metric = (hpa.Spec.Metrics ?? []).FirstOrDefault() ?? DefaultMetric;
            var name = metric.Resource?.Name ?? metric.ContainerResource?.Name ?? metric.Type.ToLowerInvariant();
            var detail = $"failed to get {name} utilization: unable to get metrics for resource {name}: {NoMetricsApi}";
            conditions.Set("ScalingActive", "False", "FailedGetResourceMetric", $"the HPA was unable to compute the replica count: {detail}");
            _events.Record(hpa, EventRecorder.Warning, "FailedGetResourceMetric", detail);
            _events.Record(hpa, EventRecorder.Warning, "FailedComputeMetricsReplicas", $"invalid metrics ({hpa.Spec.Metrics?.Count ?? 1} invalid out of {hpa.Spec.Metrics?.Count ?? 1}), first error is: failed to get {name} resource metric value: {detail}");
            await WriteStatusAsync(hpa, conditions, replicas, hpa.Status?.DesiredReplicas ?? replicas, null, cancellationToken);
            return Reconciled.After(_syncPeriod);
        }

        DateTime? scaled = null;
        if (desired != replicas && reason is not null)
        {
            await scale!.WriteAsync(desired, cancellationToken);
            scaled = now.UtcDateTime;
            conditions.Set("AbleToScale", "True", "SucceededRescale", $"the HPA controller was able to update the target scale to {desired}");
            _events.Record(hpa, EventRecorder.Normal, "SuccessfulRescale", $"New size: {desired}; reason: {reason}");
            LogRescaled(Logger, hpa.Metadata.NamespaceProperty, hpa.Metadata.Name, replicas, desired, reason);
        }

        await WriteStatusAsync(hpa, conditions, replicas, desired, scaled, cancellationToken);
        return Reconciled.After(_syncPeriod);
    }

    /// <summary>autoscaling/v2's default when an HPA names no metric: 80 % average CPU utilization.</summary>
    private static readonly V2MetricSpec DefaultMetric = new()
    {
        Type = "Resource",
        Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 80 } },
    };

    private async Task WriteStatusAsync(V2HorizontalPodAutoscaler hpa, Conditions conditions, int current, int desired, DateTime? scaled, CancellationToken cancellationToken)
    {
        var status = new JsonObject
        {
            ["currentReplicas"] = current,
            ["desiredReplicas"] = desired,
            ["observedGeneration"] = hpa.Metadata.Generation,
            ["conditions"] = conditions.ToJson(),
        };
        if (scaled is not null)
        {
            status["lastScaleTime"] = KubeTime.Format(scaled.Value);
        }

        var unchanged = hpa.Status is { } old && old.CurrentReplicas == current && old.DesiredReplicas == desired && scaled is null
            && old.ObservedGeneration == hpa.Metadata.Generation && conditions.Unchanged;
        if (!unchanged)
        {
            var patch = new JsonObject { ["status"] = status };
            await ApiCalls.IgnoreNotFoundAsync(_client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), hpa.Metadata.Name, hpa.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "HPA {Namespace}/{Name} scaled its target from {From} to {To}: {Reason}")]
    private static partial void LogRescaled(ILogger logger, string @namespace, string name, int from, int to, string reason);
}
