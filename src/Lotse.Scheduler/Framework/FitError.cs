namespace Lotse.Scheduler.Framework;

/// <summary>
/// The FailedScheduling message in kube-scheduler's shape: the failing nodes counted per reason,
/// reasons in order, then why preemption could not help (nothing is said when it nominated a node):
/// <c>0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.</c>
/// </summary>
public static class FitError
{
    public const string NoNodes = "no nodes available to schedule pods";

    /// <summary>Reasons that evicting lower-priority pods could cure; the rest it cannot.</summary>
    public static bool PreemptionMightHelp(string reason) =>
        reason.StartsWith("Insufficient ", StringComparison.Ordinal) || reason == "Too many pods" || reason.StartsWith("node(s) didn't have free ports", StringComparison.Ordinal)
        || reason is Plugins.InterPodAffinity.InterPodAffinity.AntiAffinityReason or Plugins.InterPodAffinity.InterPodAffinity.ExistingAntiAffinityReason or Plugins.PodTopologySpread.PodTopologySpread.Reason;

    /// <param name="preemption">What preemption said instead of the per-node account: empty when it nominated a node.</param>
    public static string Message(int nodes, IReadOnlyDictionary<string, string> reasonByNode, string? preemption = null)
    {
        if (nodes == 0)
        {
            return NoNodes;
        }

        var histogram = reasonByNode.Values.GroupBy(r => r).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        var failed = $"0/{nodes} nodes are available: {string.Join(", ", histogram)}.";
        if (preemption is not null)
        {
            return preemption.Length == 0 ? failed : $"{failed} preemption: {preemption}";
        }

        var helpless = reasonByNode.Values.Count(r => !PreemptionMightHelp(r));
        var victims = reasonByNode.Count - helpless;
        var account = new List<string>();
        if (victims > 0)
        {
            account.Add($"{victims} No preemption victims found for incoming pod");
        }

        if (helpless > 0)
        {
            account.Add($"{helpless} Preemption is not helpful for scheduling");
        }

        return $"{failed} preemption: 0/{nodes} nodes are available: {string.Join(", ", account)}.";
    }
}
