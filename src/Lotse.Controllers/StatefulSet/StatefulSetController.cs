using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.StatefulSet;

/// <summary>
/// Kubernetes' StatefulSet controller: pods with stable names <c>&lt;set&gt;-&lt;ordinal&gt;</c>, each
/// with its own claims from the volume claim templates (<c>&lt;template&gt;-&lt;set&gt;-&lt;ordinal&gt;</c>,
/// kept when pods go). OrderedReady (the default) creates in ordinal order, each once the one
/// before is Running and Ready, and removes from the highest ordinal down; Parallel does both at
/// once. Templates are kept as ControllerRevisions; RollingUpdate replaces pods from the highest
/// ordinal down to the partition, one at a time, each after the last became healthy; OnDelete
/// replaces only pods someone deleted.
/// </summary>
public sealed partial class StatefulSetController : Controller
{
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";
    private const string ApiVersion = "apps/v1";
    private const string Kind = "StatefulSet";
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V1StatefulSet> _sets;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1PersistentVolumeClaim> _claims;
    private readonly ControllerHistory _history;

    public StatefulSetController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 5)
        : base("statefulset", loggerFactory.CreateLogger<StatefulSetController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "statefulset-controller");
        _sets = informers.StatefulSets();
        _pods = informers.Pods();
        PodClaims.Index(_pods);
        _claims = informers.PersistentVolumeClaims();
        _history = new ControllerHistory(informers);
        _sets.AddHandler(InformerHandler.ForAll<V1StatefulSet>(s => Queue.Add(ObjectKey.Of(s))));
        _pods.AddHandler(InformerHandler.ForAll<V1Pod>(EnqueueFor));
        _history.OnChange(Kind, Queue.Add);
    }

    protected override IEnumerable<IInformer> Informers => [_sets, _pods, _claims, _history.Informer];

    private void EnqueueFor(V1Pod pod)
    {
        if (Owners.ControllerOf(pod) is { } owner)
        {
            if (owner.Kind == Kind)
            {
                Queue.Add(ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name));
            }

            return;
        }

        foreach (var set in _sets.ByNamespace(pod.Metadata.NamespaceProperty))
        {
            if (LabelSelectors.Matches(set.Spec.Selector, pod.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(set));
            }
        }
    }

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var set = _sets.Get(key);
        if (set is null || set.Metadata.DeletionTimestamp is not null)
        {
            return Reconciled.Done;
        }

        var pods = await PodClaims.ClaimAsync(_client, set, ApiVersion, Kind, PodClaims.Candidates(_pods, set), p => LabelSelectors.Matches(set.Spec.Selector, p.Metadata.Labels) && OrdinalOf(set, p) is not null, cancellationToken);
        var update = await _history.EnsureAsync(set, ApiVersion, Kind, set.Spec.Template, set.Status?.CollisionCount, cancellationToken);
        var current = _history.Owned(set).FirstOrDefault(r => r.Metadata.Name == set.Status?.CurrentRevision) ?? update;
        await ManagePodsAsync(set, pods, current, update, cancellationToken);
        var status = await UpdateStatusAsync(set, pods, current, update, cancellationToken);
        await _history.TruncateAsync(set, new HashSet<string>(pods.Select(RevisionOf).OfType<string>().Append(status.CurrentRevision).Append(status.UpdateRevision), StringComparer.Ordinal), set.Spec.RevisionHistoryLimit ?? 10, cancellationToken);

        // Availability comes by time alone: look again when the first ready pod becomes available.
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var now = Time.GetUtcNow();
        return minReady > 0 && pods.Any(p => PodStates.IsReady(p) && !PodStates.IsAvailable(p, minReady, now))
            ? Reconciled.After(TimeSpan.FromSeconds(minReady))
            : Reconciled.Done;
    }

    /// <summary>
    /// One pass of kube's StatefulSet update: make every missing pod (and its claims), replace failed
    /// ones, remove pods beyond the replica count, then roll out the update revision. OrderedReady
    /// stops at the first pod that is not yet healthy; Parallel goes on.
    /// </summary>
    private async Task ManagePodsAsync(V1StatefulSet set, List<V1Pod> pods, V1ControllerRevision current, V1ControllerRevision update, CancellationToken cancellationToken)
    {
        var ordered = set.Spec.PodManagementPolicy != "Parallel";
        var start = set.Spec.Ordinals?.Start ?? 0;
        var replicas = set.Spec.Replicas ?? 1;
        var byOrdinal = pods.Where(p => OrdinalOf(set, p) is not null).ToDictionary(p => OrdinalOf(set, p)!.Value);
        var wanted = new V1Pod?[replicas];
        for (var i = 0; i < replicas; i++)
        {
            wanted[i] = byOrdinal.GetValueOrDefault(start + i);
        }

        var partition = set.Spec.UpdateStrategy?.RollingUpdate?.Partition ?? 0;
        for (var i = 0; i < replicas; i++)
        {
            var ordinal = start + i;
            var pod = wanted[i];
            if (pod is not null && pod.Status?.Phase is "Failed" or "Succeeded" && pod.Metadata.DeletionTimestamp is null)
            {
                await DeletePodAsync(set, pod, cancellationToken);
                if (ordered)
                {
                    return;
                }

                continue;
            }

            if (pod is null)
            {
                var revision = set.Spec.UpdateStrategy?.Type != "OnDelete" && i < partition ? current : update;
                await CreatePodAsync(set, ordinal, revision, cancellationToken);
                if (ordered)
                {
                    return;
                }

                continue;
            }

            await EnsureClaimsAsync(set, ordinal, cancellationToken);
            if (ordered && !IsHealthy(pod))
            {
                return;
            }
        }

        // Pods past the replica count go from the highest ordinal down; OrderedReady waits for each to be gone.
        var condemned = byOrdinal.Where(kv => kv.Key < start || kv.Key >= start + replicas).OrderByDescending(kv => kv.Key).Select(kv => kv.Value).ToList();
        foreach (var pod in condemned)
        {
            if (pod.Metadata.DeletionTimestamp is not null)
            {
                if (ordered)
                {
                    return;
                }

                continue;
            }

            await DeletePodAsync(set, pod, cancellationToken);
            if (ordered)
            {
                return;
            }
        }

        if (set.Spec.UpdateStrategy?.Type == "OnDelete")
        {
            return;
        }

        for (var i = replicas - 1; i >= Math.Min(partition, replicas); i--)
        {
            var pod = wanted[i];
            if (pod is null)
            {
                return;
            }

            if (RevisionOf(pod) != update.Metadata.Name && pod.Metadata.DeletionTimestamp is null)
            {
                await DeletePodAsync(set, pod, cancellationToken);
                return;
            }

            if (!IsHealthy(pod))
            {
                return;
            }
        }
    }

    private static bool IsHealthy(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase == "Running" && PodStates.IsReady(pod);

    internal static string? RevisionOf(V1Pod pod) => pod.Metadata.Labels is { } labels && labels.TryGetValue(ControllerHistory.HashLabel, out var revision) ? revision : null;

    /// <summary>The ordinal in a pod's name when it is one of this set's names.</summary>
    internal static int? OrdinalOf(V1StatefulSet set, V1Pod pod)
    {
        var name = pod.Metadata.Name;
        var prefix = set.Metadata.Name + "-";
        return name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length && name.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0
            && int.TryParse(name.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
            ? ordinal
            : null;
    }

    private async Task DeletePodAsync(V1StatefulSet set, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
            _events.Record(set, EventRecorder.Normal, "SuccessfulDelete", $"delete Pod {pod.Metadata.Name} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone or replaced already.
        }
    }
}
