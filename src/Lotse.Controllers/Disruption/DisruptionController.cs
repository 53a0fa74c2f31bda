using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Disruption;

/// <summary>
/// Kubernetes' disruption controller: keeps each PodDisruptionBudget's status true — the pods it
/// selects (<c>expectedPods</c>), how many are healthy (ready, not terminating, not just evicted),
/// how many must stay (<c>desiredHealthy</c> from minAvailable / maxUnavailable, percentages scaled by
/// the pods' controllers), and so how many disruptions the eviction API may grant now. It also forgets
/// evictions in <c>disruptedPods</c> once the pod is gone or after two minutes (kube's DeletionTimeout).
/// </summary>
public sealed partial class DisruptionController : Controller
{
    /// <summary>How long an eviction the API granted counts against the budget while its pod is still there.</summary>
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    private readonly IKubernetes _client;
    private readonly Informer<V1PodDisruptionBudget> _budgets;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1ReplicaSet> _replicaSets;
    private readonly Informer<V1Deployment> _deployments;

    public DisruptionController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 2)
        : base("disruption", loggerFactory.CreateLogger<DisruptionController>(), time, workers)
    {
        _client = informers.Client;
        _budgets = informers.PodDisruptionBudgets();
        _pods = informers.Pods();
        _replicaSets = informers.ReplicaSets();
        _deployments = informers.Deployments();
        _budgets.AddHandler(InformerHandler.ForAll<V1PodDisruptionBudget>(b => Queue.Add(ObjectKey.Of(b))));
        _pods.AddHandler(new InformerHandler<V1Pod>(EnqueueBudgetsOf, (old, pod) =>
        {
            EnqueueBudgetsOf(old);
            EnqueueBudgetsOf(pod);
        }, EnqueueBudgetsOf));

        // A controller's scale decides percentage budgets: its namespace's budgets look again.
        _replicaSets.AddHandler(InformerHandler.ForAll<V1ReplicaSet>(r => EnqueueNamespace(r.Metadata.NamespaceProperty)));
        _deployments.AddHandler(InformerHandler.ForAll<V1Deployment>(d => EnqueueNamespace(d.Metadata.NamespaceProperty)));
    }

    protected override IEnumerable<IInformer> Informers => [_budgets, _pods, _replicaSets, _deployments];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var budget = _budgets.Get(key);
        if (budget is null)
        {
            return Reconciled.Done;
        }

        var ns = budget.Metadata.NamespaceProperty;
        var pods = _pods.ByNamespace(ns).Where(p => LabelSelectors.Matches(budget.Spec?.Selector, p.Metadata.Labels)).ToList();
        var now = Time.GetUtcNow();
        var (disrupted, recheck) = LiveDisruptions(budget, pods, now);
        BudgetStatus status;
        try
        {
            var (expected, desired) = await ExpectedAsync(budget, pods, cancellationToken);
            var healthy = pods.Count(p => p.Metadata.DeletionTimestamp is null && !disrupted.ContainsKey(p.Metadata.Name) && PodStates.IsReady(p));
            status = BudgetStatus.Computed(expected, desired, healthy, disrupted, budget.Metadata.Generation ?? 0);
        }
        catch (ControllerLookupException e)
        {
            // kube's failSafe: no disruptions until the budget can be computed again.
            LogSyncFailed(Logger, ns, budget.Metadata.Name, e.Message);
            status = BudgetStatus.Failed(budget.Status, e.Message);
            recheck ??= TimeSpan.FromSeconds(30);
        }

        var next = status.ApplyTo(budget.Status, now);
        if (!BudgetStatus.SameAs(next, budget.Status))
        {
            var updated = new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1",
                Kind = "PodDisruptionBudget",
                Metadata = budget.Metadata,
                Spec = budget.Spec,
                Status = next,
            };
            try
            {
                await _client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetStatusAsync(updated, budget.Metadata.Name, ns, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound)
            {
                return Reconciled.Done;
            }
        }

        return recheck is { } delay ? Reconciled.After(delay) : Reconciled.Done;
    }

    /// <summary>
    /// The evictions still in flight (kube's buildDisruptedPodMap): a recorded pod that is gone or
    /// terminating no longer needs the entry; one older than <see cref="DeletionTimeout"/> expired.
    /// Returns when the oldest live entry expires, to look again then.
    /// </summary>
    private static (Dictionary<string, DateTime?> Live, TimeSpan? Recheck) LiveDisruptions(V1PodDisruptionBudget budget, List<V1Pod> pods, DateTimeOffset now)
    {
        var live = new Dictionary<string, DateTime?>(StringComparer.Ordinal);
        TimeSpan? recheck = null;
        foreach (var (name, since) in budget.Status?.DisruptedPods ?? new Dictionary<string, DateTime?>())
        {
            var pod = pods.FirstOrDefault(p => p.Metadata.Name == name);
            if (pod is null || pod.Metadata.DeletionTimestamp is not null)
            {
                continue;
            }

            var expires = new DateTimeOffset(DateTime.SpecifyKind(since ?? DateTime.MinValue, DateTimeKind.Utc)) + DeletionTimeout;
            if (expires <= now)
            {
                continue;
            }

            live[name] = since;
            recheck = recheck is { } r && r < expires - now ? r : expires - now;
        }

        return (live, recheck);
    }

    private void EnqueueBudgetsOf(V1Pod pod)
    {
        foreach (var budget in _budgets.ByNamespace(pod.Metadata.NamespaceProperty))
        {
            if (LabelSelectors.Matches(budget.Spec?.Selector, pod.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(budget));
            }
        }
    }

    private void EnqueueNamespace(string? ns)
    {
        foreach (var budget in _budgets.ByNamespace(ns ?? string.Empty))
        {
            Queue.Add(ObjectKey.Of(budget));
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "disruption budget {Namespace}/{Name} cannot be computed: {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string @namespace, string name, string error);
}
