using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Controllers.Runtime;
using Lotse.Scheduler.Plugins.TaintToleration;

namespace Lotse.Controllers.NodeLifecycle;

public sealed partial class NodeLifecycleController
{
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";

    /// <summary>The NoSchedule taints kube derives from node conditions (TaintNodesByCondition) and spec.unschedulable.</summary>
    private static readonly (string Condition, string Status, string Taint)[] ConditionTaints =
    [
        ("Ready", "False", NotReadyTaint),
        ("Ready", "Unknown", UnreachableTaint),
        ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
        ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
    ];

    private const string UnschedulableTaint = "node.kubernetes.io/unschedulable";

    /// <summary>
    /// Brings the node's condition taints in line (NoSchedule from every condition, NoExecute from Ready
    /// False / Unknown; taints of others kept, existing ones keep their time), then evicts the pods that
    /// do not tolerate the NoExecute taints. Returns how soon a toleration runs out, if one will.
    /// </summary>
    private async Task<TimeSpan?> ReconcileTaintsAsync(V1Node node, string? readyStatus, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = node.Spec?.Taints ?? [];
        var desired = current.Where(t => !IsManaged(t)).ToList();
        void Want(string key, string effect) =>
            desired.Add(current.FirstOrDefault(t => t.Key == key && t.Effect == effect)
                ?? new V1Taint { Key = key, Effect = effect, TimeAdded = effect == "NoExecute" ? now.UtcDateTime : null });

        var conditions = node.Status?.Conditions ?? [];
        foreach (var (condition, status, taint) in ConditionTaints)
        {
            var actual = condition == "Ready" ? readyStatus : conditions.FirstOrDefault(c => c.Type == condition)?.Status;
            if (actual == status)
            {
                Want(taint, "NoSchedule");
                if (condition == "Ready")
                {
                    Want(taint, "NoExecute");
                }
            }
        }

        if (node.Spec?.Unschedulable == true)
        {
            Want(UnschedulableTaint, "NoSchedule");
        }

        if (!SameTaints(current, desired))
        {
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = node.Metadata.ResourceVersion },
                ["spec"] = new JsonObject { ["taints"] = desired.Count == 0 ? null : JsonNode.Parse(KubernetesJson.Serialize(desired)) },
            };
            await _client.CoreV1.PatchNodeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), node.Metadata.Name, cancellationToken: cancellationToken);
        }

        var noExecute = desired.Where(t => t.Effect == "NoExecute").ToList();
        return noExecute.Count == 0 ? null : await EvictUntoleratingAsync(node.Metadata.Name, noExecute, now, cancellationToken);
    }

    private static bool IsManaged(V1Taint taint) =>
        (taint.Effect == "NoSchedule" && (taint.Key == UnschedulableTaint || ConditionTaints.Any(c => c.Taint == taint.Key)))
        || (taint.Effect == "NoExecute" && taint.Key is NotReadyTaint or UnreachableTaint);

    private static bool SameTaints(IList<V1Taint> a, List<V1Taint> b) =>
        a.Count == b.Count && a.All(t => b.Any(d => d.Key == t.Key && d.Effect == t.Effect && d.Value == t.Value));

    /// <summary>
    /// The taint eviction controller: a pod that does not tolerate every NoExecute taint is deleted now;
    /// one that does is deleted when the shortest <c>tolerationSeconds</c> among the tolerations used has
    /// passed since the taint (or the pod, if younger) appeared; tolerations without seconds keep it forever.
    /// </summary>
    private async Task<TimeSpan?> EvictUntoleratingAsync(string nodeName, List<V1Taint> taints, DateTimeOffset now, CancellationToken cancellationToken)
    {
        TimeSpan? soonest = null;
        var tainted = taints.Min(t => t.TimeAdded is { } added ? Utc(added) : now);
        foreach (var pod in _pods.ByIndex(NodeNameIndex, nodeName))
        {
            if (pod.Metadata.DeletionTimestamp is not null)
            {
                continue;
            }

            var tolerations = pod.Spec?.Tolerations ?? [];
            TimeSpan? allowed = TimeSpan.MaxValue;
            foreach (var taint in taints)
            {
                var used = tolerations.Where(t => Tolerations.Tolerates(t, taint)).ToList();
                if (used.Count == 0)
                {
                    allowed = null;
                    break;
                }

                foreach (var seconds in used.Select(t => t.TolerationSeconds).OfType<long>())
                {
                    var limit = TimeSpan.FromSeconds(Math.Max(0, seconds));
                    allowed = allowed < limit ? allowed : limit;
                }
            }

            if (allowed == TimeSpan.MaxValue)
            {
                continue; // tolerated for good
            }

            var since = pod.Metadata.CreationTimestamp is { } created ? Max(tainted, Utc(created)) : tainted;
            var remaining = allowed is { } a ? since + a - now : TimeSpan.Zero;
            if (remaining > TimeSpan.Zero)
            {
                soonest = soonest < remaining ? soonest : remaining;
                continue;
            }

            LogTaintEviction(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, nodeName);
            _taintEvents.Record(pod, EventRecorder.Normal, "TaintManagerEviction", $"Marking for deletion Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}");
            await DisruptionTarget.MarkAsync(_client, pod, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint", now, failed: false, cancellationToken);
            await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken));
        }

        return soonest;
    }
}
