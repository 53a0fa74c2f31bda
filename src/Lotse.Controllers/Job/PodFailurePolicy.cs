using k8s.Models;

namespace Lotse.Controllers.Job;

/// <summary>
/// A Job's <c>podFailurePolicy</c> (kube's pod_failure_policy.go): the first rule that matches a
/// failed pod decides — by a container's non-zero exit code (<c>In</c> / <c>NotIn</c>, optionally
/// one container) or by a pod condition — whether the failure fails the whole Job (FailJob), fails
/// only the pod's index (FailIndex), is not counted against the back-off limits (Ignore), or counts
/// as usual (Count, and pods no rule matches).
/// </summary>
public sealed record PodFailurePolicy(List<V1Pod> Counted, string? FailJobMessage, HashSet<int> FailedIndexes)
{
    public static PodFailurePolicy Evaluate(V1Job job, IEnumerable<V1Pod> failedPods, Func<V1Pod, int?> indexOf)
    {
        var counted = new List<V1Pod>();
        string? failJob = null;
        var failedIndexes = new HashSet<int>();
        foreach (var pod in failedPods)
        {
            var (action, message) = Match(job.Spec.PodFailurePolicy, pod);
            switch (action)
            {
                case "Ignore":
                    break;
                case "FailJob":
                    failJob ??= message;
                    counted.Add(pod);
                    break;
                case "FailIndex" when indexOf(pod) is { } index:
                    failedIndexes.Add(index);
                    counted.Add(pod);
                    break;
                default:
                    counted.Add(pod);
                    break;
            }
        }

        return new PodFailurePolicy(counted, failJob, failedIndexes);
    }

    /// <summary>The action of the first rule matching <paramref name="pod"/> and kube's message for it; (null, null) when none does.</summary>
    public static (string? Action, string? Message) Match(V1PodFailurePolicy? policy, V1Pod pod)
    {
        var rules = policy?.Rules ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (rule.OnExitCodes is { } codes)
            {
                var statuses = (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []);
                foreach (var status in statuses)
                {
                    if (status.State?.Terminated is not { ExitCode: not 0 } terminated || (codes.ContainerName is { } only && only != status.Name))
                    {
                        continue;
                    }

                    var listed = codes.Values?.Contains(terminated.ExitCode) == true;
                    if (codes.OperatorProperty == "In" ? listed : !listed)
                    {
                        return (rule.Action, $"Container {status.Name} for pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} failed with exit code {terminated.ExitCode} matching {rule.Action} rule at index {i}");
                    }
                }
            }

            foreach (var pattern in rule.OnPodConditions ?? [])
            {
                var wanted = pattern.Status ?? "True";
                if (pod.Status?.Conditions?.FirstOrDefault(c => c.Type == pattern.Type && c.Status == wanted) is { } condition)
                {
                    return (rule.Action, $"Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} has condition {condition.Type} matching {rule.Action} rule at index {i}");
                }
            }
        }

        return (null, null);
    }
}
