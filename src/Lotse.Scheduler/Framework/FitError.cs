namespace Lotse.Scheduler.Framework;

/// <summary>
/// The FailedScheduling message in kube-scheduler's shape: the failing nodes counted per reason,
/// reasons in order, then what preemption could do (nothing, here: preemption comes later):
/// <c>0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.</c>
/// </summary>
public static class FitError
{
    public const string NoNodes = "no nodes available to schedule pods";

    /// <summary>Reasons that evicting lower-priority pods could cure; the rest it cannot.</summary>
    private static bool PreemptionMightHelp(string reason) =>
        reason.StartsWith("Insufficient ", StringComparison.Ordinal) || reason == "Too many pods" || reason.StartsWith("node(s) didn't have free ports", StringComparison.Ordinal);

    public static string Message(int nodes, IReadOnlyDictionary<string, string> reasonByNode)
    {
        if (nodes == 0)
        {
            return NoNodes;
        }

        var histogram = reasonByNode.Values.GroupBy(r => r).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        var helpless = reasonByNode.Values.Count(r => !PreemptionMightHelp(r));
        var victims = reasonByNode.Count - helpless;
        var preemption = new List<string>();
        if (victims > 0)
        {
            preemption.Add($"{victims} No preemption victims found for incoming pod");
        }

        if (helpless > 0)
        {
            preemption.Add($"{helpless} Preemption is not helpful for scheduling");
        }

        return $"0/{nodes} nodes are available: {string.Join(", ", histogram)}. preemption: 0/{nodes} nodes are available: {string.Join(", ", preemption)}.";
    }
}
