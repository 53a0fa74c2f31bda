using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Selectors;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

public sealed partial class ResourceHandler
{
    /// <summary>How often an eviction re-reads pod and budget after a concurrent change before giving up (kube retries too).</summary>
    private const int EvictionAttempts = 10;

    /// <summary>
    /// pods/eviction (policy/v1 Eviction; kube's pod eviction REST): a pod covered by a
    /// PodDisruptionBudget is deleted only when the budget allows a disruption — the budget's
    /// <c>disruptionsAllowed</c> is decremented and the pod recorded under <c>disruptedPods</c> in the same
    /// step (409 from a concurrent change retries), else 429 with a <c>DisruptionBudget</c> cause. Pods that
    /// are finished, pending or already terminating, and pods no budget covers, are deleted right away.
    /// An unready pod may go while the budget is healthy (<c>unhealthyPodEvictionPolicy</c>
    /// IfHealthyBudget, the default) or always (AlwaysAllow). The pod gets kube's
    /// <c>DisruptionTarget</c> condition before it is deleted.
    /// </summary>
    private async Task EvictAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var eviction = await RequestBody.ReadObjectAsync(request, ct);
        var named = ObjectStore.GetString(eviction["metadata"] as JsonObject, "name");
        if (!string.IsNullOrEmpty(named) && named != scope.Name)
        {
            throw StatusException.BadRequest("name in URL does not match name in Eviction object");
        }

        var dryRun = WriteOptionsOf(request).DryRun || eviction["deleteOptions"]?["dryRun"] is JsonArray { Count: > 0 };
        var requested = eviction["deleteOptions"] as JsonObject;
        var podScope = scope with { Subresource = null };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var pod = await objects.GetAsync(podScope, null, ct);
                var options = new DeleteOptions
                {
                    GracePeriodSeconds = requested?["gracePeriodSeconds"].AsInt64(),
                    PreconditionUid = requested?["preconditions"]?["uid"]?.ToString(),
                    PreconditionResourceVersion = requested?["preconditions"]?["resourceVersion"]?.ToString(),
                    DryRun = dryRun,
                };
                if (!CanIgnoreBudgets(pod.Object))
                {
                    var budgets = BudgetsCovering(pod);
                    if (budgets.Count > 1)
                    {
                        throw StatusException.InternalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
                    }

                    if (budgets.Count == 1 && !UnhealthyMayGo(pod.Object, budgets[0].Object))
                    {
                        await TakeDisruptionAsync(budgets[0], pod.Name, dryRun, ct);
                    }
                }

                // The pod that was checked is the pod that goes: the condition is written against the
                // version read, and the delete against the version written (kube pins them the same way).
                var revision = dryRun || pod.Object["metadata"]?["deletionTimestamp"] is not null
                    ? pod.Revision
                    : await MarkDisruptionTargetAsync(podScope, pod.Revision, ct);
                options = options with { PreconditionResourceVersion = options.PreconditionResourceVersion ?? revision.ToString(CultureInfo.InvariantCulture) };
                await objects.DeleteAsync(podScope, options, ct);
                break;
            }
            catch (StatusException e) when (e.Code == 409 && attempt < EvictionAttempts)
            {
                // the pod or the budget changed under us: look again, after a short growing pause
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), ct);
            }
        }

        await WriteCreatedStatusAsync(context, ct);
    }

    /// <summary>Finished, pending and terminating pods are not counted by budgets (kube's canIgnorePDB).</summary>
    private static bool CanIgnoreBudgets(JsonObject pod) =>
        pod["metadata"]?["deletionTimestamp"] is not null
        || pod["status"]?["phase"]?.ToString() is "Succeeded" or "Failed" or "Pending";

    private List<CachedObject> BudgetsCovering(CachedObject pod)
    {
        var resource = registry.Find("policy", "v1", "poddisruptionbudgets")!;
        var labels = (pod.Object["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? string.Empty, StringComparer.Ordinal)
            ?? new Dictionary<string, string>(StringComparer.Ordinal);
        var prefix = resource.NamespacePrefix(pod.Namespace);
        return [.. objects.Caches.Find(resource.KeyPrefix)!.Objects
            .Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => p.Value)
            .Where(b => b.Object["spec"]?["selector"] is JsonObject selector && LabelSelector.FromLabelSelectorJson(selector).Matches(labels))];
    }

    /// <summary>An unready pod may be evicted without taking from the budget when its policy allows it.</summary>
    private static bool UnhealthyMayGo(JsonObject pod, JsonObject budget)
    {
        var ready = (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True") == true;
        if (ready)
        {
            return false;
        }

        if (budget["spec"]?["unhealthyPodEvictionPolicy"]?.ToString() == "AlwaysAllow")
        {
            return true;
        }

        var status = budget["status"];
        var desired = status?["desiredHealthy"].AsInt64() ?? 0;
        return desired > 0 && (status?["currentHealthy"].AsInt64() ?? 0) >= desired;
    }

    /// <summary>Takes one disruption from the budget, or refuses with kube's 429.</summary>
    private async Task TakeDisruptionAsync(CachedObject cached, string podName, bool dryRun, CancellationToken ct)
    {
        // The cache found the budget; its count is read consistently (the disruption controller writes it often).
        var resource = registry.Find("policy", "v1", "poddisruptionbudgets")!;
        var budget = await objects.GetAsync(new RequestScope(resource, cached.Namespace, cached.Name), null, ct);
        var pdb = budget.Object;
        var name = budget.Name;
        var status = pdb["status"] as JsonObject;
        if ((status?["observedGeneration"].AsInt64() ?? 0) < (pdb["metadata"]?["generation"].AsInt64() ?? 0))
        {
            throw Refused($"The disruption budget {name} is still being processed by the server.");
        }

        var allowed = status?["disruptionsAllowed"].AsInt64() ?? 0;
        if (allowed < 0)
        {
            throw StatusException.Forbidden("pdb disruptions allowed is negative");
        }

        if ((status?["disruptedPods"] as JsonObject)?.Count > 2000)
        {
            throw StatusException.Forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller");
        }

        if (allowed == 0)
        {
            throw Refused($"The disruption budget {name} needs {status?["desiredHealthy"].AsInt64() ?? 0} healthy pods and has {status?["currentHealthy"].AsInt64() ?? 0} currently");
        }

        if (dryRun)
        {
            return;
        }

        await objects.UpdateAsync(new RequestScope(resource, budget.Namespace, name, "status"), current =>
        {
            var next = current?.CloneObject() ?? throw StatusException.NotFound(resource.GroupResource, name);
            ObjectStore.Metadata(next)["resourceVersion"] = budget.Revision.ToString(CultureInfo.InvariantCulture);
            var nextStatus = next["status"] as JsonObject ?? [];
            nextStatus["disruptionsAllowed"] = allowed - 1;
            var disrupted = nextStatus["disruptedPods"] as JsonObject ?? [];
            disrupted[podName] = Timestamp();
            nextStatus["disruptedPods"] = disrupted;
            next["status"] = nextStatus;
            return next;
        }, WriteOptions.Default, ct);

        static StatusException Refused(string cause) =>
            StatusException.TooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", "DisruptionBudget", cause);
    }

    /// <summary>kube's DisruptionTarget condition (reason EvictionByEvictionAPI), set before the delete.</summary>
    private async Task<long> MarkDisruptionTargetAsync(RequestScope pod, long revision, CancellationToken ct)
    {
        var (updated, _) = await objects.UpdateAsync(pod with { Subresource = "status" }, current =>
        {
            var next = current?.CloneObject() ?? throw StatusException.NotFound("pods", pod.Name!);
            ObjectStore.Metadata(next)["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            var status = next["status"] as JsonObject ?? [];
            var conditions = status["conditions"] as JsonArray ?? [];
            foreach (var old in conditions.OfType<JsonObject>().Where(c => c["type"]?.ToString() == "DisruptionTarget").ToList())
            {
                conditions.Remove(old);
            }

            conditions.Add(new JsonObject
            {
                ["type"] = "DisruptionTarget",
                ["status"] = "True",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = Timestamp(),
                ["reason"] = "EvictionByEvictionAPI",
                ["message"] = "Eviction API: evicting",
            });
            status["conditions"] = conditions;
            next["status"] = status;
            return next;
        }, WriteOptions.Default, ct);
        return updated.Revision;
    }

    /// <summary>Now as metav1.Time (RFC 3339, whole seconds, UTC).</summary>
    private string Timestamp() => time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
