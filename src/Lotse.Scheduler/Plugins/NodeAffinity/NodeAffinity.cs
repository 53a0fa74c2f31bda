using System.Globalization;
using k8s.Models;
using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.NodeAffinity;

/// <summary>
/// Filter: spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node selector terms
/// (any term may match; within a term every expression must: In, NotIn, Exists, DoesNotExist, Gt, Lt,
/// and matchFields on metadata.name). Score: the summed weights of the preferred terms that match.
/// </summary>
public sealed class NodeAffinity : IFilterPlugin, IScorePlugin
{
    public string Name => "NodeAffinity";

    public int Weight => 2;

    public string? Filter(PodInfo pod, NodeInfo node) => Required(pod, node) ? null : Reason;

    /// <summary>Whether the node satisfies the pod's nodeSelector and required node affinity.</summary>
    public static bool Required(PodInfo pod, NodeInfo node)
    {
        // Loops, not LINQ: this runs for every node a pod is weighed against, and lambdas capturing
        // the node would allocate on every call.
        if (pod.Pod.Spec?.NodeSelector is { Count: > 0 } selector)
        {
            var labels = node.Node.Metadata.Labels;
            foreach (var (key, wanted) in selector)
            {
                if (labels is null || !labels.TryGetValue(key, out var value) || value != wanted)
                {
                    return false;
                }
            }
        }

        if (pod.Pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is not { } required)
        {
            return true;
        }

        foreach (var term in required.NodeSelectorTerms)
        {
            if (Matches(term, node))
            {
                return true;
            }
        }

        return false;
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        var preferred = pod.Pod.Spec?.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution;
        if (preferred is null || preferred.Count == 0)
        {
            return 0;
        }

        var total = preferred.Sum(p => (long)p.Weight);
        var matched = preferred.Where(p => Matches(p.Preference, node)).Sum(p => (long)p.Weight);
        return total == 0 ? 0 : matched * 100 / total;
    }

    private const string Reason = "node(s) didn't match Pod's node affinity/selector";

    public static bool Matches(V1NodeSelectorTerm term, NodeInfo node)
    {
        var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false; // an empty term matches nothing (kube)
        }

        return expressions.All(e => Matches(e, labels.TryGetValue(e.Key, out var v) ? v : null))
            && fields.All(f => f.Key == "metadata.name" && Matches(f, node.Name));
    }

    private static bool Matches(V1NodeSelectorRequirement requirement, string? value)
    {
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => value is not null && values.Contains(value),
            "NotIn" => value is null || !values.Contains(value),
            "Exists" => value is not null,
            "DoesNotExist" => value is null,
            "Gt" => value is not null && long.TryParse(value, CultureInfo.InvariantCulture, out var a) && values.Count == 1 && long.TryParse(values[0], CultureInfo.InvariantCulture, out var b) && a > b,
            "Lt" => value is not null && long.TryParse(value, CultureInfo.InvariantCulture, out var c) && values.Count == 1 && long.TryParse(values[0], CultureInfo.InvariantCulture, out var d) && c < d,
            _ => false,
        };
    }
}
