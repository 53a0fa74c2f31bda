using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.NodeLifecycle;

/// <summary>
/// Kubernetes' node lifecycle controller: a node whose kubelet neither posts status nor renews its
/// Lease within the grace period gets its conditions set to Unknown ("Kubelet stopped posting node
/// status.") and its pods marked not ready; nodes are tainted from their conditions (NoSchedule by
/// condition, NoExecute not-ready / unreachable), and pods that do not tolerate a NoExecute taint are
/// deleted — at once, or once their <c>tolerationSeconds</c> have passed (the taint eviction controller).
/// Health is judged by when this controller saw a heartbeat change, not by the node's clock.
/// </summary>
public sealed partial class NodeLifecycleController : Controller
{
    public const string NodeNameIndex = "nodeName";
    private const string LeaseNamespace = "kube-node-lease";
    private static readonly string[] ConditionTypes = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly EventRecorder _taintEvents;
    private readonly NodeLifecycleOptions _options;
    private readonly Informer<V1Node> _nodes;
    private readonly Informer<V1Lease> _leases;
    private readonly Informer<V1Pod> _pods;
    private readonly ConcurrentDictionary<string, Health> _health = new(StringComparer.Ordinal);

    public NodeLifecycleController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, NodeLifecycleOptions? options = null, int workers = 2)
        : base("node-lifecycle", loggerFactory.CreateLogger<NodeLifecycleController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "node-controller");
        _taintEvents = EventsFrom(_client, "taint-eviction-controller");
        _options = options ?? new NodeLifecycleOptions();
        _nodes = informers.Nodes();
        _leases = informers.Leases();
        _pods = informers.Pods();
        _pods.AddIndex(NodeNameIndex, p => p.Spec?.NodeName is { Length: > 0 } node ? [node] : []);
        _nodes.AddHandler(InformerHandler.ForAll<V1Node>(n => Queue.Add(n.Metadata.Name)));
        _leases.AddHandler(InformerHandler.ForAll<V1Lease>(l =>
        {
            if (l.Metadata.NamespaceProperty == LeaseNamespace)
            {
                Queue.Add(l.Metadata.Name);
            }
        }));

        // A pod bound to a NoExecute-tainted node must be judged against the taint.
        _pods.AddHandler(InformerHandler.ForAll<V1Pod>(p =>
        {
            if (p.Spec?.NodeName is { Length: > 0 } node && _nodes.Get(node)?.Spec?.Taints?.Any(t => t.Effect == "NoExecute") == true)
            {
                Queue.Add(node);
            }
        }));
    }

    protected override IEnumerable<IInformer> Informers => [_nodes, _leases, _pods];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var node = _nodes.Get(key);
        if (node is null)
        {
            _health.TryRemove(key, out _);
            return Reconciled.Done;
        }

        var now = Time.GetUtcNow();
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var health = Observe(node, ready, now);
        var grace = ready is null ? _options.StartupGracePeriod : _options.GracePeriod;
        var since = ready is null && node.Metadata.CreationTimestamp is { } created ? Max(health.Probe, Utc(created)) : health.Probe;
        var readyStatus = ready?.Status;
        if (now > since + grace && readyStatus != "Unknown")
        {
            await MarkUnknownAsync(node, ready, now, cancellationToken);
            readyStatus = "Unknown";
        }

        var requeue = await ReconcileTaintsAsync(node, readyStatus, now, cancellationToken);
        return Reconciled.After(requeue is { } r && r < _options.MonitorPeriod ? r : _options.MonitorPeriod);
    }

    /// <summary>Moves the probe time when the kubelet's Ready heartbeat or the node's Lease renewal changed since last look.</summary>
    private Health Observe(V1Node node, V1NodeCondition? ready, DateTimeOffset now)
    {
        var heartbeat = ready?.LastHeartbeatTime;
        var renewed = _leases.Get(LeaseNamespace, node.Metadata.Name)?.Spec?.RenewTime;
        return _health.AddOrUpdate(
            node.Metadata.Name,
            _ => new Health(now, heartbeat, renewed),
            (_, old) => old.Heartbeat != heartbeat || old.Renewed != renewed ? new Health(now, heartbeat, renewed) : old);
    }

    /// <summary>kube's tryUpdateNodeHealth: every kubelet condition Unknown, then the node's pods not ready.</summary>
    private async Task MarkUnknownAsync(V1Node node, V1NodeCondition? ready, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var stamp = KubeTime.Format(now);
        var conditions = new JsonArray();
        foreach (var condition in node.Status?.Conditions ?? [])
        {
            if (!ConditionTypes.Contains(condition.Type) || condition.Status == "Unknown")
            {
                conditions.Add(JsonNode.Parse(KubernetesJson.Serialize(condition)));
                continue;
            }

            conditions.Add(new JsonObject
            {
                ["type"] = condition.Type,
                ["status"] = "Unknown",
                ["lastHeartbeatTime"] = condition.LastHeartbeatTime is { } beat ? KubeTime.Format(Utc(beat)) : null,
                ["lastTransitionTime"] = stamp,
                ["reason"] = "NodeStatusUnknown",
                ["message"] = "Kubelet stopped posting node status.",
            });
        }

        foreach (var type in ConditionTypes.Where(t => node.Status?.Conditions?.Any(c => c.Type == t) != true))
        {
            conditions.Add(new JsonObject
            {
                ["type"] = type,
                ["status"] = "Unknown",
                ["lastHeartbeatTime"] = node.Metadata.CreationTimestamp is { } created ? KubeTime.Format(Utc(created)) : stamp,
                ["lastTransitionTime"] = stamp,
                ["reason"] = "NodeStatusNeverUpdated",
                ["message"] = "Kubelet never posted node status.",
            });
        }

        // Pinned to the version read: a kubelet that just came back wins.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = node.Metadata.ResourceVersion },
            ["status"] = new JsonObject { ["conditions"] = conditions },
        };
        await _client.CoreV1.PatchNodeStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), node.Metadata.Name, cancellationToken: cancellationToken);
        LogNodeUnknown(Logger, node.Metadata.Name, ready?.Status ?? "never posted");
        _events.Record(node, EventRecorder.Normal, "NodeNotReady", $"Node {node.Metadata.Name} status is now: NodeNotReady");
        if (ready?.Status != "Unknown")
        {
            await MarkPodsNotReadyAsync(node.Metadata.Name, now, cancellationToken);
        }
    }

    /// <summary>kube's MarkPodsNotReady: the Ready condition of every pod on the node turns False.</summary>
    private async Task MarkPodsNotReadyAsync(string nodeName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var pod in _pods.ByIndex(NodeNameIndex, nodeName))
        {
            var conditions = pod.Status?.Conditions;
            if (conditions?.Any(c => c.Type == "Ready" && c.Status != "False") != true)
            {
                continue;
            }

            var updated = new JsonArray();
            foreach (var condition in conditions)
            {
                var json = JsonNode.Parse(KubernetesJson.Serialize(condition))!.AsObject();
                if (condition.Type == "Ready")
                {
                    json["status"] = "False";
                    json["lastTransitionTime"] = KubeTime.Format(now);
                }

                updated.Add(json);
            }

            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = pod.Metadata.ResourceVersion },
                ["status"] = new JsonObject { ["conditions"] = updated },
            };
            await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>When this controller last saw the node's heartbeat or Lease move, and what they were then.</summary>
    private sealed record Health(DateTimeOffset Probe, DateTime? Heartbeat, DateTime? Renewed);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "node {Node} stopped posting status (was Ready {Ready}): conditions Unknown, pods not ready")]
    private static partial void LogNodeUnknown(ILogger logger, string node, string ready);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "deleting pod {Namespace}/{Name}: it does not tolerate the NoExecute taints of node {Node}")]
    private static partial void LogTaintEviction(ILogger logger, string @namespace, string name, string node);
}
