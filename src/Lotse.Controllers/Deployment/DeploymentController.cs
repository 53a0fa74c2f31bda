using System.Globalization;
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

namespace Lotse.Controllers.Deployment;

/// <summary>
/// Kubernetes' Deployment controller: one ReplicaSet per pod template (named
/// <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c>, revision-numbered), rolled from old to new by
/// RollingUpdate (maxSurge / maxUnavailable) or Recreate; a rollback makes an old ReplicaSet new
/// again with the next revision; pause stops rolling; old ReplicaSets beyond
/// revisionHistoryLimit are deleted; status counts and the Available / Progressing conditions are
/// what <c>kubectl rollout status</c> reads.
/// </summary>
public sealed partial class DeploymentController : Controller
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    public const string ChangeCauseAnnotation = "kubernetes.io/change-cause";
    private const string Kind = "Deployment";
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V1Deployment> _deployments;
    private readonly Informer<V1ReplicaSet> _sets;

    public DeploymentController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 5)
        : base("deployment", loggerFactory.CreateLogger<DeploymentController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "deployment-controller");
        _deployments = informers.Deployments();
        _sets = informers.ReplicaSets();
        _sets.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
        _deployments.AddHandler(InformerHandler.ForAll<V1Deployment>(d => Queue.Add(ObjectKey.Of(d))));
        _sets.AddHandler(new InformerHandler<V1ReplicaSet>(
            onAdd: EnqueueOwner,
            onUpdate: (old, rs) =>
            {
                EnqueueOwner(rs);
                if (Owners.ControllerOf(old)?.Uid != Owners.ControllerOf(rs)?.Uid)
                {
                    EnqueueOwner(old);
                }
            },
            onDelete: EnqueueOwner));
    }

    protected override IEnumerable<IInformer> Informers => [_deployments, _sets];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var deployment = _deployments.Get(key);
        if (deployment is null || deployment.Metadata.DeletionTimestamp is not null)
        {
            return Reconciled.Done;
        }

        var spec = deployment.Spec;
        if (spec.Selector is null || LabelSelectors.IsEmpty(spec.Selector))
        {
            // kube refuses to act on a selector that selects everything.
            return Reconciled.Done;
        }

        var sets = await ClaimReplicaSetsAsync(deployment, cancellationToken);
        var newSet = sets.Where(rs => TemplateHash.EqualIgnoringHash(rs.Spec.Template, spec.Template)).OrderBy(rs => rs.Metadata.CreationTimestamp).FirstOrDefault();
        var oldSets = sets.Where(rs => rs != newSet).ToList();

        if (spec.Paused == true)
        {
            // Paused: scale only, no rollout.
            await ScaleActiveAsync(deployment, newSet, oldSets, cancellationToken);
            await SyncStatusAsync(deployment, newSet, oldSets, cancellationToken);
            return Reconciled.Done;
        }

        newSet = await EnsureNewReplicaSetAsync(deployment, newSet, oldSets, cancellationToken);
        if (newSet is null)
        {
            return Reconciled.After(TimeSpan.FromSeconds(1));
        }

        if (spec.Strategy?.Type == "Recreate")
        {
            await RecreateAsync(deployment, newSet, oldSets, cancellationToken);
        }
        else
        {
            await RollAsync(deployment, newSet, oldSets, cancellationToken);
        }

        await CleanUpHistoryAsync(deployment, oldSets, cancellationToken);
        return await SyncStatusAsync(deployment, newSet, oldSets, cancellationToken);
    }

    private void EnqueueOwner(V1ReplicaSet rs)
    {
        if (Owners.ControllerOf(rs) is { Kind: Kind } owner)
        {
            Queue.Add(ObjectKey.Of(rs.Metadata.NamespaceProperty, owner.Name));
            return;
        }

        if (Owners.ControllerOf(rs) is null)
        {
            foreach (var deployment in _deployments.ByNamespace(rs.Metadata.NamespaceProperty))
            {
                if (LabelSelectors.Matches(deployment.Spec.Selector, rs.Metadata.Labels))
                {
                    Queue.Add(ObjectKey.Of(deployment));
                }
            }
        }
    }

    /// <summary>The ReplicaSets this Deployment controls, adopting matching orphans (kube's ClaimReplicaSets).</summary>
    private async Task<List<V1ReplicaSet>> ClaimReplicaSetsAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var owned = new List<V1ReplicaSet>();
        foreach (var rs in _sets.ByNamespace(deployment.Metadata.NamespaceProperty))
        {
            var controller = Owners.ControllerOf(rs);
            if (controller?.Uid == deployment.Metadata.Uid)
            {
                owned.Add(rs);
            }
            else if (controller is null && rs.Metadata.DeletionTimestamp is null && LabelSelectors.Matches(deployment.Spec.Selector, rs.Metadata.Labels))
            {
                var owners = new JsonArray([.. (rs.Metadata.OwnerReferences ?? []).Append(Owners.ControllerReference(deployment, "apps/v1", Kind)).Select(o => JsonNode.Parse(KubernetesJson.Serialize(o)))]);
                await PatchReplicaSetAsync(rs, new JsonObject { ["metadata"] = new JsonObject { ["uid"] = rs.Metadata.Uid, ["ownerReferences"] = owners } }, cancellationToken);
                owned.Add(rs);
            }
        }

        return owned;
    }

    private static string? Annotation(IKubernetesObject<V1ObjectMeta> obj, string key) =>
        obj.Metadata.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;

    private static long Revision(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var value) == true && long.TryParse(value, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    /// <summary>
    /// The ReplicaSet for the current template: created when missing (revision = highest + 1); an old
    /// one that matches again (a rollback) gets the next revision, its previous one kept in the history annotation.
    /// </summary>
    private async Task<V1ReplicaSet?> EnsureNewReplicaSetAsync(V1Deployment deployment, V1ReplicaSet? existing, List<V1ReplicaSet> oldSets, CancellationToken cancellationToken)
    {
        var maxOld = oldSets.Count == 0 ? 0 : oldSets.Max(Revision);
        var desired = deployment.Spec.Replicas ?? 1;
        var maxSurge = MaxSurge(deployment);
        if (existing is not null)
        {
            var annotations = new JsonObject();
            var revision = Revision(existing);
            if (revision <= maxOld)
            {
                annotations[RevisionAnnotation] = (maxOld + 1).ToString(CultureInfo.InvariantCulture);
                var history = Annotation(existing, RevisionHistoryAnnotation);
                annotations[RevisionHistoryAnnotation] = string.IsNullOrEmpty(history) ? revision.ToString(CultureInfo.InvariantCulture) : $"{history},{revision}";
            }

            AnnotateReplicas(annotations, existing, desired, maxSurge);
            if (Annotation(deployment, ChangeCauseAnnotation) is { } cause && Annotation(existing, ChangeCauseAnnotation) != cause)
            {
                annotations[ChangeCauseAnnotation] = cause;
            }

            if (annotations.Count > 0)
            {
                existing = await PatchReplicaSetAsync(existing, new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = annotations } }, cancellationToken) ?? existing;
            }

            await SetDeploymentRevisionAsync(deployment, Revision(existing), cancellationToken);
            return existing;
        }

        var hash = TemplateHash.Compute(deployment.Spec.Template, deployment.Status?.CollisionCount);
        var template = TemplateHash.WithoutHash(deployment.Spec.Template)!;
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels ??= new Dictionary<string, string>();
        template.Metadata.Labels[TemplateHash.Label] = hash;
        var selector = KubernetesJson.Deserialize<V1LabelSelector>(KubernetesJson.Serialize(deployment.Spec.Selector));
        selector.MatchLabels ??= new Dictionary<string, string>();
        selector.MatchLabels[TemplateHash.Label] = hash;
        var nextRevision = maxOld + 1;
        var rsAnnotations = new Dictionary<string, string>
        {
            [RevisionAnnotation] = nextRevision.ToString(CultureInfo.InvariantCulture),
            [DesiredReplicasAnnotation] = desired.ToString(CultureInfo.InvariantCulture),
            [MaxReplicasAnnotation] = (desired + maxSurge).ToString(CultureInfo.InvariantCulture),
        };
        if (Annotation(deployment, ChangeCauseAnnotation) is { } changeCause)
        {
            rsAnnotations[ChangeCauseAnnotation] = changeCause;
        }

        // A new ReplicaSet starts at zero when others still run (the rollout scales it), else at the full count.
        var activeOld = oldSets.Any(rs => (rs.Spec.Replicas ?? 0) > 0);
        var startReplicas = deployment.Spec.Strategy?.Type == "Recreate" && activeOld ? 0 : activeOld ? Math.Min(desired, Math.Max(0, desired + maxSurge - oldSets.Sum(rs => rs.Spec.Replicas ?? 0))) : desired;
        var labels = new Dictionary<string, string>(template.Metadata.Labels);
        var rs = new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{deployment.Metadata.Name}-{hash}",
                Labels = labels,
                Annotations = rsAnnotations,
                OwnerReferences = [Owners.ControllerReference(deployment, "apps/v1", Kind)],
            },
            Spec = new V1ReplicaSetSpec
            {
                Replicas = startReplicas,
                MinReadySeconds = deployment.Spec.MinReadySeconds,
                Selector = selector,
                Template = template,
            },
        };
        try
        {
            var created = await _client.AppsV1.CreateNamespacedReplicaSetAsync(rs, deployment.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            if (startReplicas > 0)
            {
                _events.Record(deployment, EventRecorder.Normal, "ScalingReplicaSet", $"Scaled up replica set {created.Metadata.Name} from 0 to {startReplicas}");
            }

            await SetConditionAsync(deployment, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{created.Metadata.Name}\"", cancellationToken);
            await SetDeploymentRevisionAsync(deployment, nextRevision, cancellationToken);
            return created;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // The name is taken: either our cache lags behind our own create (look again shortly), or
            // another template hashed the same (kube bumps status.collisionCount and hashes anew).
            var taken = await _client.AppsV1.ReadNamespacedReplicaSetAsync(rs.Metadata.Name, deployment.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            if (Owners.ControllerOf(taken)?.Uid != deployment.Metadata.Uid || !TemplateHash.EqualIgnoringHash(taken.Spec.Template, deployment.Spec.Template))
            {
                await PatchDeploymentStatusAsync(deployment, new JsonObject { ["collisionCount"] = (deployment.Status?.CollisionCount ?? 0) + 1 }, cancellationToken);
            }

            return null;
        }
    }

    private static void AnnotateReplicas(JsonObject annotations, V1ReplicaSet rs, int desired, int maxSurge)
    {
        var desiredText = desired.ToString(CultureInfo.InvariantCulture);
        var maxText = (desired + maxSurge).ToString(CultureInfo.InvariantCulture);
        if (Annotation(rs, DesiredReplicasAnnotation) != desiredText)
        {
            annotations[DesiredReplicasAnnotation] = desiredText;
        }

        if (Annotation(rs, MaxReplicasAnnotation) != maxText)
        {
            annotations[MaxReplicasAnnotation] = maxText;
        }
    }

    private async Task SetDeploymentRevisionAsync(V1Deployment deployment, long revision, CancellationToken cancellationToken)
    {
        var text = revision.ToString(CultureInfo.InvariantCulture);
        if (Annotation(deployment, RevisionAnnotation) == text)
        {
            return;
        }

        var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RevisionAnnotation] = text } } };
        await ApiCalls.IgnoreNotFoundAsync(_client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), deployment.Metadata.Name, deployment.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }

    private async Task<V1ReplicaSet?> PatchReplicaSetAsync(V1ReplicaSet rs, JsonObject patch, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.AppsV1.PatchNamespacedReplicaSetAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

}
