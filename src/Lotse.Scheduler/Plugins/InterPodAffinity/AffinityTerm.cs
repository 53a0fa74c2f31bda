using k8s.Models;
using Lotse.Client.Selectors;

namespace Lotse.Scheduler.Plugins.InterPodAffinity;

/// <summary>
/// One pod (anti-)affinity term of a pod, resolved: which pods it selects (label selector within its
/// namespaces — the pod's own when neither namespaces nor namespaceSelector is given) and the
/// topology key whose domains it speaks of.
/// </summary>
internal sealed class AffinityTerm(V1PodAffinityTerm term, string podNamespace, int weight, Func<string, IDictionary<string, string>?> namespaceLabels)
{
    private readonly HashSet<string> _namespaces = term.Namespaces is { Count: > 0 } listed || term.NamespaceSelector is not null
        ? new HashSet<string>(term.Namespaces ?? [], StringComparer.Ordinal)
        : new HashSet<string>([podNamespace], StringComparer.Ordinal);

    public string TopologyKey => term.TopologyKey;

    public int Weight => weight;

    /// <summary>Whether the term selects this pod (a term without a label selector selects none).</summary>
    public bool Matches(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var inNamespace = _namespaces.Contains(ns) || (term.NamespaceSelector is { } selector && LabelSelectors.Matches(selector, namespaceLabels(ns)));
        return inNamespace && LabelSelectors.Matches(term.LabelSelector, pod.Metadata.Labels);
    }

    public static List<AffinityTerm> Required(IList<V1PodAffinityTerm>? terms, V1Pod pod, Func<string, IDictionary<string, string>?> namespaceLabels) =>
        [.. (terms ?? []).Select(t => new AffinityTerm(t, pod.Metadata.NamespaceProperty, 1, namespaceLabels))];

    public static List<AffinityTerm> Preferred(IList<V1WeightedPodAffinityTerm>? terms, V1Pod pod, Func<string, IDictionary<string, string>?> namespaceLabels) =>
        [.. (terms ?? []).Select(t => new AffinityTerm(t.PodAffinityTerm, pod.Metadata.NamespaceProperty, t.Weight, namespaceLabels))];
}
