using k8s.Models;
using Lotse.Client.Selectors;
using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.PodTopologySpread;

/// <summary>
/// Topology spread constraints, as kube-scheduler's PodTopologySpread. The pod's own constraints,
/// or — when it has none — the cluster defaults (hostname with maxSkew 3, zone with maxSkew 5, both
/// ScheduleAnyway) over the selector of the Services and the controller that own it. Pods count in
/// a domain when they are in the pod's namespace, selected, not terminating, and on a node that
/// passes the pod's node affinity and has every constraint's key. Filter (DoNotSchedule): placing
/// the pod may not make its domain exceed the least-populated one by more than maxSkew (with fewer
/// domains than minDomains the least is 0). Score (ScheduleAnyway): fewer selected pods in a
/// node's domains scores higher, each constraint weighted by log(domains + 2).
/// </summary>
public sealed class PodTopologySpread(Func<V1Pod, V1LabelSelector?> defaultSelector) : IPreFilterPlugin, IFilterPlugin, IScorePlugin
{
    public const string Reason = "node(s) didn't match pod topology spread constraints";
    public const string MissingLabelReason = "node(s) didn't match pod topology spread constraints (missing required label)";
    private const string Hostname = "kubernetes.io/hostname";
    private const string Zone = "topology.kubernetes.io/zone";

    /// <summary>The key of the scores worked out in PreScore (a constant: Score runs for every feasible node).</summary>
    private const string ScoreState = "PodTopologySpread/score";

    public string Name => "PodTopologySpread";

    public int Weight => 2;

    public void PreFilter(PodInfo pod, IReadOnlyList<NodeInfo> nodes)
    {
        var hard = (pod.Pod.Spec?.TopologySpreadConstraints ?? []).Where(c => c.WhenUnsatisfiable == "DoNotSchedule").Select(c => new Constraint(c, pod.Pod)).ToList();
        if (hard.Count == 0)
        {
            return;
        }

        var counts = new Dictionary<(string, string), int>();
        foreach (var node in nodes)
        {
            if (!Counted(pod, node, hard))
            {
                continue;
            }

            foreach (var constraint in hard)
            {
                var domain = (constraint.Key, node.Label(constraint.Key)!);
                counts[domain] = counts.GetValueOrDefault(domain) + constraint.CountOn(node, pod.Pod);
            }
        }

        var minimum = hard.Select(c =>
        {
            var domains = counts.Where(p => p.Key.Item1 == c.Key).Select(p => p.Value).ToList();
            return domains.Count == 0 || domains.Count < (c.Spec.MinDomains ?? 1) ? 0 : domains.Min();
        }).ToList();
        pod.State[Name] = (hard, counts, minimum);
    }

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        if (!pod.State.TryGetValue(Name, out var value))
        {
            return null;
        }

        var (hard, counts, minimum) = ((List<Constraint>, Dictionary<(string, string), int>, List<int>))value;
        for (var i = 0; i < hard.Count; i++)
        {
            var constraint = hard[i];
            if (node.Label(constraint.Key) is not { } domain)
            {
                return MissingLabelReason;
            }

            var self = constraint.Selects(pod.Pod) ? 1 : 0;
            if (counts.GetValueOrDefault((constraint.Key, domain)) + self - minimum[i] > constraint.Spec.MaxSkew)
            {
                return Reason;
            }
        }

        return null;
    }

    public void PreScore(PodInfo pod, IReadOnlyList<NodeInfo> feasible, IReadOnlyList<NodeInfo> all)
    {
        var own = pod.Pod.Spec?.TopologySpreadConstraints;
        List<Constraint> soft;
        var defaulted = own is null || own.Count == 0;
        if (defaulted)
        {
            if (defaultSelector(pod.Pod) is not { } selector)
            {
                return;
            }

            soft =
            [
                new Constraint(new V1TopologySpreadConstraint { MaxSkew = 3, TopologyKey = Hostname, WhenUnsatisfiable = "ScheduleAnyway", LabelSelector = selector }, pod.Pod),
                new Constraint(new V1TopologySpreadConstraint { MaxSkew = 5, TopologyKey = Zone, WhenUnsatisfiable = "ScheduleAnyway", LabelSelector = selector }, pod.Pod),
            ];
        }
        else
        {
            soft = [.. own!.Where(c => c.WhenUnsatisfiable == "ScheduleAnyway").Select(c => new Constraint(c, pod.Pod))];
        }

        // Only keys some feasible node has matter; the pod's own constraints ignore nodes lacking any key.
        soft.RemoveAll(c => !feasible.Any(n => n.Label(c.Key) is not null));
        if (soft.Count == 0)
        {
            return;
        }

        var scored = defaulted ? feasible : [.. feasible.Where(n => soft.TrueForAll(c => n.Label(c.Key) is not null))];
        var counts = new Dictionary<(string, string), int>();
        foreach (var constraint in soft)
        {
            // Each node is its own hostname domain: only the feasible ones need counting.
            var domains = scored.Select(n => n.Label(constraint.Key)).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var node in constraint.Key == Hostname ? scored : all)
            {
                if (node.Label(constraint.Key) is { } domain && domains.Contains(domain) && Counted(pod, node, defaulted ? [constraint] : soft))
                {
                    counts[(constraint.Key, domain)] = counts.GetValueOrDefault((constraint.Key, domain)) + constraint.CountOn(node, pod.Pod);
                }
            }

            constraint.Weight = Math.Log(domains.Count + 2);
        }

        var raw = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var node in scored)
        {
            double score = 0;
            foreach (var constraint in soft)
            {
                if (node.Label(constraint.Key) is { } domain)
                {
                    score += (counts.GetValueOrDefault((constraint.Key, domain)) * constraint.Weight) + (constraint.Spec.MaxSkew - 1);
                }
            }

            raw[node.Name] = Math.Round(score);
        }

        if (raw.Count > 0)
        {
            pod.State[ScoreState] = (raw, raw.Values.Min(), raw.Values.Max());
        }
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        if (!pod.State.TryGetValue(ScoreState, out var value))
        {
            return 0;
        }

        var (raw, min, max) = ((Dictionary<string, double>, double, double))value;
        if (!raw.TryGetValue(node.Name, out var score))
        {
            return 0; // ignored: lacks a constraint's key
        }

        return max == 0 ? 100 : (long)(100 * (max + min - score) / max);
    }

    /// <summary>Whether pods on this node count: it passes the pod's node affinity and has every constraint's key (kube's nodeAffinityPolicy Honor).</summary>
    private static bool Counted(PodInfo pod, NodeInfo node, List<Constraint> constraints)
    {
        foreach (var constraint in constraints)
        {
            if (node.Label(constraint.Key) is null)
            {
                return false;
            }
        }

        return NodeAffinity.NodeAffinity.Required(pod, node);
    }

    private sealed class Constraint(V1TopologySpreadConstraint spec, V1Pod pod)
    {
        private readonly V1LabelSelector? _selector = WithMatchLabelKeys(spec, pod);

        public V1TopologySpreadConstraint Spec { get; } = spec;

        public string Key => Spec.TopologyKey;

        public double Weight { get; set; }

        public bool Selects(V1Pod other) => LabelSelectors.Matches(_selector, other.Metadata.Labels);

        public int CountOn(NodeInfo node, V1Pod pod)
        {
            var count = 0;
            foreach (var other in node.Pods)
            {
                if (other.Pod.Metadata.DeletionTimestamp is null && other.Pod.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty && Selects(other.Pod))
                {
                    count++;
                }
            }

            return count;
        }

        /// <summary>matchLabelKeys: the pod's values for those keys join the selector.</summary>
        private static V1LabelSelector? WithMatchLabelKeys(V1TopologySpreadConstraint spec, V1Pod pod)
        {
            if (spec.MatchLabelKeys is not { Count: > 0 } keys || spec.LabelSelector is null)
            {
                return spec.LabelSelector;
            }

            var labels = new Dictionary<string, string>(spec.LabelSelector.MatchLabels ?? new Dictionary<string, string>());
            foreach (var key in keys)
            {
                if (pod.Metadata.Labels?.TryGetValue(key, out var value) == true)
                {
                    labels[key] = value;
                }
            }

            return new V1LabelSelector { MatchLabels = labels, MatchExpressions = spec.LabelSelector.MatchExpressions };
        }
    }
}
