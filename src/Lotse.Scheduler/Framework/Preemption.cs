using k8s.Models;
using Lotse.Client.Selectors;

namespace Lotse.Scheduler.Framework;

/// <summary>
/// kube-scheduler's DefaultPreemption, worked out on the scheduler's snapshot: on each node that
/// failed for a reason eviction can cure, take away every pod of lower priority; if the pod then
/// fits, give back as many as still let it fit — the most important first, those whose disruption
/// budget forbids eviction before the others — and what stays taken are the victims. The node
/// chosen has the fewest budget violations, then the lowest highest victim priority, the lowest
/// sum of priorities, the fewest victims, and the most recently started victims.
/// </summary>
public static class Preemption
{
    public sealed record Candidate(NodeInfo Node, List<PodInfo> Victims, int Violations);

    public static int PriorityOf(V1Pod pod) => pod.Spec?.Priority ?? 0;

    /// <summary>Why the pod may not preempt at all, or null if it may.</summary>
    public static string? Ineligible(PodInfo pod, IReadOnlyDictionary<string, NodeInfo> nodes)
    {
        if (pod.Pod.Spec?.PreemptionPolicy == "Never")
        {
            return "not eligible due to preemptionPolicy=Never.";
        }

        // Victims it chose earlier are still terminating: wait for them rather than preempt more.
        if (pod.Pod.Status?.NominatedNodeName is { Length: > 0 } nominated && nodes.TryGetValue(nominated, out var node)
            && node.Pods.Any(p => p.Pod.Metadata.DeletionTimestamp is not null && PriorityOf(p.Pod) < PriorityOf(pod.Pod)))
        {
            return "not eligible due to a terminating pod on the nominated node.";
        }

        return null;
    }

    public static Candidate? Find(PodInfo pod, IEnumerable<NodeInfo> nodes, Func<PodInfo, NodeInfo, bool> fits, IReadOnlyList<V1PodDisruptionBudget> budgets)
    {
        Candidate? best = null;
        foreach (var node in nodes)
        {
            if (Victims(pod, node, fits, budgets) is { } candidate && (best is null || Better(candidate, best)))
            {
                best = candidate;
            }
        }

        return best;
    }

    private static Candidate? Victims(PodInfo pod, NodeInfo node, Func<PodInfo, NodeInfo, bool> fits, IReadOnlyList<V1PodDisruptionBudget> budgets)
    {
        var priority = PriorityOf(pod.Pod);
        var lower = node.Pods.Where(p => PriorityOf(p.Pod) < priority && p.Pod.Metadata.DeletionTimestamp is null).ToList();
        if (lower.Count == 0)
        {
            return null;
        }

        var trial = new NodeInfo(node.Node);
        foreach (var kept in node.Pods.Except(lower))
        {
            trial.Add(kept);
        }

        if (!fits(pod, trial))
        {
            return null;
        }

        // The most important first: higher priority, then the earlier started.
        lower.Sort((a, b) => PriorityOf(b.Pod) != PriorityOf(a.Pod) ? PriorityOf(b.Pod).CompareTo(PriorityOf(a.Pod)) : StartOf(a).CompareTo(StartOf(b)));
        var allowed = budgets.ToDictionary(b => b, b => b.Status?.DisruptionsAllowed ?? 0);
        var protectedPods = lower.Where(p => BudgetsOf(p, budgets).Any(b => allowed[b] <= 0)).ToList();
        var victims = new List<PodInfo>();
        var violations = 0;
        foreach (var (group, violating) in new[] { (protectedPods, true), (lower.Except(protectedPods).ToList(), false) })
        {
            foreach (var candidate in group)
            {
                trial.Add(candidate);
                if (fits(pod, trial))
                {
                    continue; // reprieved
                }

                trial.Remove(candidate.Key);
                victims.Add(candidate);
                foreach (var budget in BudgetsOf(candidate, budgets))
                {
                    allowed[budget]--;
                }

                if (violating)
                {
                    violations++;
                }
            }
        }

        return new Candidate(node, victims, violations);
    }

    private static bool Better(Candidate a, Candidate b)
    {
        if (a.Violations != b.Violations)
        {
            return a.Violations < b.Violations;
        }

        var (highA, highB) = (a.Victims.Max(v => PriorityOf(v.Pod)), b.Victims.Max(v => PriorityOf(v.Pod)));
        if (highA != highB)
        {
            return highA < highB;
        }

        var (sumA, sumB) = (a.Victims.Sum(v => (long)PriorityOf(v.Pod) + int.MaxValue + 1), b.Victims.Sum(v => (long)PriorityOf(v.Pod) + int.MaxValue + 1));
        if (sumA != sumB)
        {
            return sumA < sumB;
        }

        if (a.Victims.Count != b.Victims.Count)
        {
            return a.Victims.Count < b.Victims.Count;
        }

        return EarliestStartOfHighest(a) > EarliestStartOfHighest(b);
    }

    private static DateTime EarliestStartOfHighest(Candidate c)
    {
        var high = c.Victims.Max(v => PriorityOf(v.Pod));
        return c.Victims.Where(v => PriorityOf(v.Pod) == high).Min(StartOf);
    }

    private static DateTime StartOf(PodInfo pod) => pod.Pod.Status?.StartTime ?? pod.Pod.Metadata.CreationTimestamp ?? DateTime.MaxValue;

    private static IEnumerable<V1PodDisruptionBudget> BudgetsOf(PodInfo pod, IReadOnlyList<V1PodDisruptionBudget> budgets) =>
        budgets.Where(b => b.Metadata.NamespaceProperty == pod.Pod.Metadata.NamespaceProperty && b.Spec?.Selector is { } s && !LabelSelectors.IsEmpty(s) && LabelSelectors.Matches(s, pod.Pod.Metadata.Labels));
}
