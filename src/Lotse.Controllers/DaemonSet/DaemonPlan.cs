using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.DaemonSet;

/// <summary>
/// One look at a DaemonSet against the nodes and its pods (kube's manage + rollingUpdate +
/// updateDaemonSetStatus): the nodes that need a pod, the pods that must go, and the status counts.
/// </summary>
internal sealed class DaemonPlan
{
    private DaemonPlan(string hash)
    {
        Hash = hash;
    }

    public string Hash { get; }

    /// <summary>Nodes to create a daemon pod for.</summary>
    public List<string> Create { get; } = [];

    public List<V1Pod> Delete { get; } = [];

    public int Desired { get; private set; }

    public int CurrentScheduled { get; private set; }

    public int Misscheduled { get; private set; }

    public int Ready { get; private set; }

    public int Available { get; private set; }

    public int UpdatedScheduled { get; private set; }

    /// <summary>When to look again although nothing changes (a ready pod becoming available by time).</summary>
    public TimeSpan? RecheckAfter { get; private set; }

    public static DaemonPlan Make(V1DaemonSet set, IReadOnlyList<V1Node> nodes, List<V1Pod> pods, string hash, DateTimeOffset now)
    {
        var plan = new DaemonPlan(hash);
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var byNode = pods.GroupBy(p => DaemonPlacement.TargetNode(p) ?? string.Empty).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var placements = nodes.Select(n => (Node: n, Fit: DaemonPlacement.Evaluate(n, set.Spec.Template.Spec))).ToList();
        var desired = placements.Count(p => p.Fit.ShouldRun);
        var rolling = set.Spec.UpdateStrategy?.Type != "OnDelete";
        var maxSurge = rolling && set.Spec.UpdateStrategy?.RollingUpdate?.MaxSurge is { } surge ? IntOrPercent.Scaled(surge, desired, roundUp: true) : 0;
        var maxUnavailable = rolling ? IntOrPercent.Scaled(set.Spec.UpdateStrategy?.RollingUpdate?.MaxUnavailable ?? "1", desired, roundUp: true) : 0;
        if (rolling && maxSurge == 0 && maxUnavailable == 0)
        {
            maxUnavailable = 1;
        }

        var unavailable = 0;
        var replaceable = new List<V1Pod>();
        var surging = 0;
        var surgeCandidates = new List<string>();
        foreach (var (node, (shouldRun, mayStay)) in placements)
        {
            var nodePods = byNode.GetValueOrDefault(node.Metadata.Name) ?? [];
            byNode.Remove(node.Metadata.Name);
            var live = new List<V1Pod>();
            foreach (var pod in nodePods.Where(p => p.Metadata.DeletionTimestamp is null).OrderBy(p => p.Metadata.CreationTimestamp))
            {
                if (pod.Status?.Phase is "Failed" or "Succeeded" || (!shouldRun && !mayStay))
                {
                    plan.Delete.Add(pod);
                }
                else
                {
                    live.Add(pod);
                }
            }

            if (!shouldRun)
            {
                plan.Misscheduled += nodePods.Count > 0 ? 1 : 0;
                continue;
            }

            plan.Desired++;
            if (live.Count == 0)
            {
                // A pod still terminating here holds the node until it is gone.
                if (nodePods.All(p => p.Metadata.DeletionTimestamp is null))
                {
                    plan.Create.Add(node.Metadata.Name);
                }

                unavailable++;
                plan.CurrentScheduled += nodePods.Count > 0 ? 1 : 0;
                continue;
            }

            // Extra pods go, the oldest stays (with surge, the oldest of the new and the oldest of the old).
            var kept = maxSurge > 0
                ? live.GroupBy(p => IsUpdated(p, hash)).Select(g => g.First()).ToList()
                : [live[0]];
            plan.Delete.AddRange(live.Except(kept));
            plan.CurrentScheduled++;
            var fresh = kept.FirstOrDefault(p => IsUpdated(p, hash));
            var old = kept.FirstOrDefault(p => !IsUpdated(p, hash));
            var available = kept.Any(p => PodStates.IsAvailable(p, minReady, now));
            plan.Ready += kept.Any(PodStates.IsReady) ? 1 : 0;
            plan.Available += available ? 1 : 0;
            plan.UpdatedScheduled += old is null ? 1 : 0;
            if (kept.Any(p => PodStates.IsReady(p) && !PodStates.IsAvailable(p, minReady, now)))
            {
                plan.RecheckAfter = TimeSpan.FromSeconds(Math.Max(1, minReady));
            }

            unavailable += available ? 0 : 1;
            if (!rolling || old is null)
            {
                continue;
            }

            if (fresh is not null)
            {
                // Surging: the old pod goes once the new one is available.
                if (PodStates.IsAvailable(fresh, minReady, now))
                {
                    plan.Delete.Add(old);
                }
                else
                {
                    surging++;
                }
            }
            else if (maxSurge > 0)
            {
                surgeCandidates.Add(node.Metadata.Name);
            }
            else if (!PodStates.IsAvailable(old, minReady, now))
            {
                // An old pod that is not available costs nothing to replace.
                plan.Delete.Add(old);
            }
            else
            {
                replaceable.Add(old);
            }
        }

        plan.Create.AddRange(surgeCandidates.Take(Math.Max(0, maxSurge - surging)));
        plan.Delete.AddRange(replaceable.Take(Math.Max(0, maxUnavailable - unavailable)));

        // Pods meant for nodes that no longer exist.
        plan.Delete.AddRange(byNode.Where(kv => kv.Key.Length > 0).SelectMany(kv => kv.Value).Where(p => p.Metadata.DeletionTimestamp is null));
        return plan;
    }

    private static bool IsUpdated(V1Pod pod, string hash) =>
        pod.Metadata.Labels?.TryGetValue(ControllerHistory.HashLabel, out var value) == true && value == hash;
}
