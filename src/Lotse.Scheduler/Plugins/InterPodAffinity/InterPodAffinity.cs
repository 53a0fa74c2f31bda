using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.InterPodAffinity;

/// <summary>
/// Pod affinity and anti-affinity, as kube-scheduler's InterPodAffinity. Filter: every required
/// affinity term must find a selected pod in the node's domain of its topology key (unless no pod
/// anywhere matches and the pod matches its own terms — the first of a group); no required
/// anti-affinity term may; and no pod already placed may have a required anti-affinity term that
/// selects this pod in the node's domain. Score: preferred terms of both sides (and others'
/// required affinity, at weight 1) add or subtract their weight per domain, normalized to 0–100
/// over the feasible nodes.
/// </summary>
public sealed class InterPodAffinity(Func<string, IDictionary<string, string>?> namespaceLabels) : IPreFilterPlugin, IFilterPlugin, IScorePlugin
{
    public const string AffinityReason = "node(s) didn't match pod affinity rules";
    public const string AntiAffinityReason = "node(s) didn't match pod anti-affinity rules";
    public const string ExistingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules";
    private const int HardPodAffinityWeight = 1;

    /// <summary>The key of the scores worked out in PreScore (a constant: Score runs for every feasible node).</summary>
    private const string ScoreState = "InterPodAffinity/score";

    public string Name => "InterPodAffinity";

    public int Weight => 2;

    public void PreFilter(PodInfo pod, IReadOnlyList<NodeInfo> nodes)
    {
        var spec = pod.Pod.Spec?.Affinity;
        var affinity = AffinityTerm.Required(spec?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, pod.Pod, namespaceLabels);
        var anti = AffinityTerm.Required(spec?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, pod.Pod, namespaceLabels);
        var state = new FilterState(affinity, anti);
        foreach (var node in nodes)
        {
            // Placed pods whose required anti-affinity selects this one keep it out of their domains.
            foreach (var other in node.PodsWithRequiredAntiAffinity)
            {
                foreach (var term in AffinityTerm.Required(other.Pod.Spec!.Affinity!.PodAntiAffinity!.RequiredDuringSchedulingIgnoredDuringExecution, other.Pod, namespaceLabels))
                {
                    if (node.Label(term.TopologyKey) is { } value && term.Matches(pod.Pod))
                    {
                        Increment(state.ExistingAnti, term.TopologyKey, value, 1);
                    }
                }
            }

            if (affinity.Count == 0 && anti.Count == 0)
            {
                continue;
            }

            foreach (var other in node.Pods)
            {
                if (other.Pod.Metadata.DeletionTimestamp is not null)
                {
                    continue;
                }

                // An affinity pair counts only where the pod matches every term (kube's affinityCounts).
                if (affinity.Count > 0 && affinity.TrueForAll(t => t.Matches(other.Pod)))
                {
                    foreach (var term in affinity)
                    {
                        if (node.Label(term.TopologyKey) is { } value)
                        {
                            Increment(state.Affinity, term.TopologyKey, value, 1);
                        }
                    }
                }

                foreach (var term in anti)
                {
                    if (node.Label(term.TopologyKey) is { } value && term.Matches(other.Pod))
                    {
                        Increment(state.Anti, term.TopologyKey, value, 1);
                    }
                }
            }
        }

        pod.State[Name] = state;
    }

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        if (!pod.State.TryGetValue(Name, out var value))
        {
            return null;
        }

        var state = (FilterState)value;
        if (state.AffinityTerms.Count > 0)
        {
            var exist = true;
            foreach (var term in state.AffinityTerms)
            {
                if (node.Label(term.TopologyKey) is not { } domain)
                {
                    return AffinityReason;
                }

                if (state.Affinity.GetValueOrDefault((term.TopologyKey, domain)) <= 0)
                {
                    exist = false;
                }
            }

            // The first pod of a group with affinity to itself must be placeable somewhere.
            if (!exist && !(state.Affinity.Count == 0 && state.AffinityTerms.TrueForAll(t => t.Matches(pod.Pod))))
            {
                return AffinityReason;
            }
        }

        foreach (var term in state.AntiTerms)
        {
            if (node.Label(term.TopologyKey) is { } domain && state.Anti.GetValueOrDefault((term.TopologyKey, domain)) > 0)
            {
                return AntiAffinityReason;
            }
        }

        if (state.ExistingAnti.Count > 0 && node.Node.Metadata.Labels is { } labels)
        {
            foreach (var (key, domain) in labels)
            {
                if (state.ExistingAnti.GetValueOrDefault((key, domain)) > 0)
                {
                    return ExistingAntiAffinityReason;
                }
            }
        }

        return null;
    }

    public void PreScore(PodInfo pod, IReadOnlyList<NodeInfo> feasible, IReadOnlyList<NodeInfo> all)
    {
        var spec = pod.Pod.Spec?.Affinity;
        var preferred = AffinityTerm.Preferred(spec?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, pod.Pod, namespaceLabels);
        var preferredAnti = AffinityTerm.Preferred(spec?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, pod.Pod, namespaceLabels);
        var hasOwn = preferred.Count > 0 || preferredAnti.Count > 0;
        var domains = new Dictionary<(string, string), long>();
        foreach (var node in all)
        {
            // Without preferred terms of its own, only placed pods with affinity terms can matter.
            foreach (var other in hasOwn ? node.Pods : node.PodsWithAffinity)
            {
                Add(domains, node, preferred, other.Pod, 1);
                Add(domains, node, preferredAnti, other.Pod, -1);
                if (other.HasAffinity)
                {
                    var theirs = other.Pod.Spec!.Affinity!;
                    Add(domains, node, AffinityTerm.Required(theirs.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, other.Pod, namespaceLabels), pod.Pod, HardPodAffinityWeight);
                    Add(domains, node, AffinityTerm.Preferred(theirs.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, other.Pod, namespaceLabels), pod.Pod, 1);
                    Add(domains, node, AffinityTerm.Preferred(theirs.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, other.Pod, namespaceLabels), pod.Pod, -1);
                }
            }
        }

        if (domains.Count == 0)
        {
            return;
        }

        var raw = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in feasible)
        {
            long score = 0;
            foreach (var (key, domain) in node.Node.Metadata.Labels ?? new Dictionary<string, string>())
            {
                score += domains.GetValueOrDefault((key, domain));
            }

            raw[node.Name] = score;
        }

        var min = raw.Values.Min();
        var max = raw.Values.Max();
        pod.State[ScoreState] = (raw, min, max);
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        if (!pod.State.TryGetValue(ScoreState, out var value))
        {
            return 0;
        }

        var (raw, min, max) = ((Dictionary<string, long>, long, long))value;
        return max == min ? 0 : 100 * (raw.GetValueOrDefault(node.Name) - min) / (max - min);
    }

    /// <summary>Adds the weight of each term that selects <paramref name="selected"/> to the placed pod's node's domain of the term's key.</summary>
    private static void Add(Dictionary<(string, string), long> domains, NodeInfo node, List<AffinityTerm> terms, k8s.Models.V1Pod selected, int sign)
    {
        foreach (var term in terms)
        {
            if (node.Label(term.TopologyKey) is { } domain && term.Matches(selected))
            {
                domains[(term.TopologyKey, domain)] = domains.GetValueOrDefault((term.TopologyKey, domain)) + (sign * term.Weight);
            }
        }
    }

    private static void Increment(Dictionary<(string, string), int> counts, string key, string value, int by) =>
        counts[(key, value)] = counts.GetValueOrDefault((key, value)) + by;

    private sealed class FilterState(List<AffinityTerm> affinityTerms, List<AffinityTerm> antiTerms)
    {
        public List<AffinityTerm> AffinityTerms { get; } = affinityTerms;

        public List<AffinityTerm> AntiTerms { get; } = antiTerms;

        public Dictionary<(string, string), int> Affinity { get; } = [];

        public Dictionary<(string, string), int> Anti { get; } = [];

        public Dictionary<(string, string), int> ExistingAnti { get; } = [];
    }
}
