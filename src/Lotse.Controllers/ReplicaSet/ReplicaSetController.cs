using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.ReplicaSet;

/// <summary>
/// Kubernetes' ReplicaSet controller: keeps <c>spec.replicas</c> active pods from the template,
/// owned through a controller reference; adopts matching orphans and releases owned pods that no
/// longer match; creates in slow-start batches (1, 2, 4, … so a failing template costs one error,
/// not hundreds); deletes the most deletable surplus first; reports status counts.
/// </summary>
public sealed partial class ReplicaSetController : Controller
{
    /// <summary>At most this many creates or deletes per reconcile (kube's burstReplicas).</summary>
    private const int BurstReplicas = 500;

    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly ReplicatedKind _sets;
    private readonly Informer<V1Pod> _pods;
    private readonly Expectations _expectations;

    /// <param name="kind">ReplicaSets (the default) or ReplicationControllers.</param>
    public ReplicaSetController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 5, ReplicatedKind? kind = null)
        : this(informers, kind ?? ReplicatedKind.ReplicaSets(informers), loggerFactory, time, workers)
    {
    }

    private ReplicaSetController(InformerFactory informers, ReplicatedKind kind, ILoggerFactory loggerFactory, TimeProvider? time, int workers)
        : base(kind.ControllerName, loggerFactory.CreateLogger<ReplicaSetController>(), time, workers)
    {
        _client = informers.Client;
        _sets = kind;
        _events = EventsFrom(_client, kind.Component);
        _pods = informers.Pods();
        PodClaims.Index(_pods);
        _expectations = new Expectations(Time);
        _sets.OnChange(rs => Queue.Add(ObjectKey.Of(rs)));
        _pods.AddHandler(new InformerHandler<V1Pod>(
            onAdd: pod => Observe(null, pod, removed: false),
            onUpdate: (old, pod) =>
            {
                if (OwnerKey(old) is { } previous && previous != OwnerKey(pod))
                {
                    Queue.Add(previous);
                }

                Observe(old, pod, removed: false);
            },
            onDelete: pod => Observe(null, pod, removed: true)));
    }

    protected override IEnumerable<IInformer> Informers => [_sets.Informer, _pods];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var rs = _sets.Get(key);
        if (rs is null)
        {
            _expectations.Forget(key);
            return Reconciled.Done;
        }

        // Expectations first, then the cache (kube's order): a deletion seen in between must not leave
        // a going pod in the list this sync acts on.
        var needsSync = _expectations.Satisfied(key);
        var owned = await PodClaims.ClaimAsync(_client, rs, _sets.ApiVersion, _sets.Kind, PodClaims.Candidates(_pods, rs), p => LabelSelectors.Matches(rs.Spec.Selector, p.Metadata.Labels), cancellationToken);
        var active = owned.Where(PodStates.IsActive).ToList();
        if (needsSync && rs.Metadata.DeletionTimestamp is null)
        {
            await ManageReplicasAsync(rs, key, active, cancellationToken);
        }

        var minReady = rs.Spec.MinReadySeconds ?? 0;
        var now = Time.GetUtcNow();
        await UpdateStatusAsync(rs, active, now, cancellationToken);

        // A pod that is ready but not yet available becomes available by time alone: look again then.
        return minReady > 0 && active.Any(p => PodStates.IsReady(p) && !PodStates.IsAvailable(p, minReady, now))
            ? Reconciled.After(TimeSpan.FromSeconds(minReady))
            : Reconciled.Done;
    }

    private string? OwnerKey(V1Pod pod) =>
        Owners.ControllerOf(pod) is { } owner && owner.Kind == _sets.Kind ? ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name) : null;

    private void Observe(V1Pod? old, V1Pod pod, bool removed)
    {
        if (OwnerKey(pod) is { } owner)
        {
            _expectations.Observe(owner, old?.Metadata, pod.Metadata, removed);
        }

        EnqueueFor(pod);
    }

    /// <summary>A pod's controller is told; an orphan makes every ReplicaSet that selects it look (adoption).</summary>
    private void EnqueueFor(V1Pod pod)
    {
        if (OwnerKey(pod) is { } owner)
        {
            Queue.Add(owner);
            return;
        }

        if (Owners.ControllerOf(pod) is null && pod.Metadata.DeletionTimestamp is null)
        {
            foreach (var rs in _sets.ByNamespace(pod.Metadata.NamespaceProperty))
            {
                if (LabelSelectors.Matches(rs.Spec.Selector, pod.Metadata.Labels))
                {
                    Queue.Add(ObjectKey.Of(rs));
                }
            }
        }
    }

    private async Task ManageReplicasAsync(V1ReplicaSet rs, string key, List<V1Pod> active, CancellationToken cancellationToken)
    {
        var diff = active.Count - (rs.Spec.Replicas ?? 1);
        if (diff < 0)
        {
            var count = Math.Min(-diff, BurstReplicas);
            _expectations.Expect(key, count);
            var created = 0;
            for (var batch = 1; created < count; batch = Math.Min(batch * 2, count - created))
            {
                var size = Math.Min(batch, count - created);
                var results = await Task.WhenAll(Enumerable.Range(0, size).Select(_ => CreatePodAsync(rs, cancellationToken)));
                created += size;
                if (results.FirstOrDefault(r => r is not null) is { } error)
                {
                    // Skip the rest of this round: it would fail alike. Nobody will see those pods.
                    _expectations.LowerCreations(key, results.Count(r => r is not null) + (count - created));
                    throw error;
                }
            }
        }
        else if (diff > 0)
        {
            var victims = PodStates.DeletionOrder(active).Take(Math.Min(diff, BurstReplicas)).ToList();
            _expectations.Expect(key, 0, victims.Select(p => p.Metadata.Uid));
            await PodDeletions.DeleteAsync(_client, _events, _expectations, key, rs, victims, cancellationToken);
        }
    }

    /// <summary>Creates one pod from the template; returns the failure instead of throwing so a batch can finish.</summary>
    private async Task<Exception?> CreatePodAsync(V1ReplicaSet rs, CancellationToken cancellationToken)
    {
        var template = rs.Spec.Template;
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{rs.Metadata.Name}-",
                Labels = template?.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = template?.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                Finalizers = template?.Metadata?.Finalizers,
                OwnerReferences = [Owners.ControllerReference(rs, _sets.ApiVersion, _sets.Kind)],
            },
            Spec = template?.Spec,
        };
        try
        {
            var created = await _client.CoreV1.CreateNamespacedPodAsync(pod, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _events.Record(rs, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
            return null;
        }
        catch (HttpOperationException e)
        {
            LogCreateFailed(Logger, rs.Metadata.NamespaceProperty, rs.Metadata.Name, (int)e.Response.StatusCode, e.Response.Content);
            _events.Record(rs, EventRecorder.Warning, "FailedCreate", $"Error creating: {ApiCalls.StatusMessage(e)}");
            return e;
        }
    }

    private async Task UpdateStatusAsync(V1ReplicaSet rs, List<V1Pod> active, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var templateLabels = rs.Spec.Template?.Metadata?.Labels ?? new Dictionary<string, string>();
        var minReady = rs.Spec.MinReadySeconds ?? 0;
        var replicas = active.Count;
        var fullyLabeled = active.Count(p => templateLabels.All(l => p.Metadata.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value));
        var ready = active.Count(PodStates.IsReady);
        var available = active.Count(p => PodStates.IsAvailable(p, minReady, now));
        var status = rs.Status;
        if (status is not null && status.Replicas == replicas && (status.FullyLabeledReplicas ?? 0) == fullyLabeled && (status.ReadyReplicas ?? 0) == ready
            && (status.AvailableReplicas ?? 0) == available && status.ObservedGeneration == rs.Metadata.Generation)
        {
            return;
        }

        // Zero counts are omitted, as kubernetes writes them (omitempty): the merge patch clears them with null.
        var patch = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["fullyLabeledReplicas"] = NullIfZero(fullyLabeled),
                ["readyReplicas"] = NullIfZero(ready),
                ["availableReplicas"] = NullIfZero(available),
                ["observedGeneration"] = rs.Metadata.Generation,
            },
        };
        try
        {
            await _sets.PatchStatusAsync(_client, new V1Patch(patch, V1Patch.PatchType.MergePatch), rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile.
        }
    }

    private static int? NullIfZero(int value) => value == 0 ? null : value;

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "replicaset {Namespace}/{Name}: creating a pod failed ({Code}): {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string @namespace, string name, int code, string error);
}
