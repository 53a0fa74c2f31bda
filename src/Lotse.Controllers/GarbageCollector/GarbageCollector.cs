using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.GarbageCollector;

/// <summary>
/// Kubernetes' garbage collector over owner references, for the kinds it tracks:
/// <list type="bullet">
/// <item>a dependent whose owners are all gone is deleted (background propagation); owner references to owners that are gone are removed when other owners remain;</item>
/// <item>an owner deleted with <c>propagationPolicy=Foreground</c> (finalizer <c>foregroundDeletion</c>) has its dependents deleted, and keeps the finalizer until no dependent with <c>blockOwnerDeletion</c> is left;</item>
/// <item>an owner deleted with <c>propagationPolicy=Orphan</c> (finalizer <c>orphan</c>) has its reference removed from every dependent, then the finalizer.</item>
/// </list>
/// "Gone" is confirmed with a live read, because a cache that lags must never cost a dependent its life.
/// An owner of a kind not tracked counts as present.
/// </summary>
public sealed class GarbageCollector : Controller
{
    public const string OrphanFinalizer = "orphan";
    public const string ForegroundFinalizer = "foregroundDeletion";
    private static readonly TimeSpan ForegroundRecheck = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, TrackedKind> _kinds;

    public GarbageCollector(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 4)
        : base("garbage-collector", loggerFactory.CreateLogger<GarbageCollector>(), time, workers)
    {
        var client = informers.Client;
        TrackedKind[] kinds =
        [
            TrackedKind.Create(
                "v1", "Pod", true, informers.Pods(),
                async (ns, name, ct) => await client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.CoreV1.DeleteNamespacedPodAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.CoreV1.PatchNamespacedPodAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "apps/v1", "ReplicaSet", true, informers.ReplicaSets(),
                async (ns, name, ct) => await client.AppsV1.ReadNamespacedReplicaSetAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.AppsV1.DeleteNamespacedReplicaSetAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.AppsV1.PatchNamespacedReplicaSetAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "v1", "ReplicationController", true, informers.ReplicationControllers(),
                async (ns, name, ct) => await client.CoreV1.ReadNamespacedReplicationControllerAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.CoreV1.DeleteNamespacedReplicationControllerAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.CoreV1.PatchNamespacedReplicationControllerAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "apps/v1", "Deployment", true, informers.Deployments(),
                async (ns, name, ct) => await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "apps/v1", "StatefulSet", true, informers.StatefulSets(),
                async (ns, name, ct) => await client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.AppsV1.DeleteNamespacedStatefulSetAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.AppsV1.PatchNamespacedStatefulSetAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "apps/v1", "DaemonSet", true, informers.DaemonSets(),
                async (ns, name, ct) => await client.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.AppsV1.DeleteNamespacedDaemonSetAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.AppsV1.PatchNamespacedDaemonSetAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "apps/v1", "ControllerRevision", true, informers.ControllerRevisions(),
                async (ns, name, ct) => await client.AppsV1.ReadNamespacedControllerRevisionAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.AppsV1.DeleteNamespacedControllerRevisionAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.AppsV1.PatchNamespacedControllerRevisionAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "batch/v1", "Job", true, informers.Jobs(),
                async (ns, name, ct) => await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.BatchV1.DeleteNamespacedJobAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.BatchV1.PatchNamespacedJobAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "batch/v1", "CronJob", true, informers.CronJobs(),
                async (ns, name, ct) => await client.BatchV1.ReadNamespacedCronJobAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.BatchV1.DeleteNamespacedCronJobAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.BatchV1.PatchNamespacedCronJobAsync(patch, name, ns, cancellationToken: ct)),
            TrackedKind.Create(
                "v1", "PersistentVolumeClaim", true, informers.PersistentVolumeClaims(),
                async (ns, name, ct) => await client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(name, ns, cancellationToken: ct),
                async (ns, name, options, ct) => await client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, ns, options, cancellationToken: ct),
                async (ns, name, patch, ct) => await client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(patch, name, ns, cancellationToken: ct)),
        ];
        _kinds = kinds.ToDictionary(k => k.Kind, StringComparer.Ordinal);
        foreach (var kind in kinds)
        {
            Watch(kind);
        }
    }

    protected override IEnumerable<IInformer> Informers => _kinds.Values.Select(k => k.Informer);

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var separator = key.IndexOf('|', StringComparison.Ordinal);
        var kind = _kinds[key[..separator]];
        var obj = kind.Get(key[(separator + 1)..]);
        if (obj is null)
        {
            return Reconciled.Done;
        }

        var finalizers = obj.Metadata.Finalizers ?? [];
        if (obj.Metadata.DeletionTimestamp is not null && finalizers.Contains(OrphanFinalizer))
        {
            await OrphanDependentsAsync(kind, obj, cancellationToken);
            return Reconciled.Done;
        }

        if (obj.Metadata.DeletionTimestamp is not null && finalizers.Contains(ForegroundFinalizer))
        {
            return await DeleteDependentsFirstAsync(kind, obj, cancellationToken);
        }

        if (obj.Metadata.OwnerReferences is { Count: > 0 } owners)
        {
            await CollectIfOrphanedAsync(kind, obj, owners, cancellationToken);
        }

        return Reconciled.Done;
    }

    private static string KeyOf(TrackedKind kind, IKubernetesObject<V1ObjectMeta> obj) => $"{kind.Kind}|{ObjectKey.Of(obj)}";

    private void Watch(TrackedKind kind)
    {
        void Changed(IKubernetesObject<V1ObjectMeta> obj)
        {
            var finalizers = obj.Metadata.Finalizers;
            if (obj.Metadata.OwnerReferences is { Count: > 0 }
                || (obj.Metadata.DeletionTimestamp is not null && finalizers is not null && (finalizers.Contains(OrphanFinalizer) || finalizers.Contains(ForegroundFinalizer))))
            {
                Queue.Add(KeyOf(kind, obj));
            }
        }

        void Deleted(IKubernetesObject<V1ObjectMeta> obj)
        {
            // Its dependents may now be orphans; an owner waiting in the foreground may now be free.
            foreach (var dependent in DependentsOf(obj.Metadata.Uid))
            {
                Queue.Add(KeyOf(dependent.Kind, dependent.Object));
            }

            foreach (var owner in obj.Metadata.OwnerReferences ?? [])
            {
                if (Find(owner) is { } ownerKind)
                {
                    Queue.Add($"{ownerKind.Kind}|{ObjectKey.Of(ownerKind.Namespaced ? obj.Metadata.NamespaceProperty : null, owner.Name)}");
                }
            }
        }

        kind.Subscribe(Changed, Deleted);
    }

    private TrackedKind? Find(V1OwnerReference owner) =>
        _kinds.TryGetValue(owner.Kind, out var kind) && kind.Group == Group(owner.ApiVersion) ? kind : null;

    private static string Group(string apiVersion) =>
        apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;

    private List<(TrackedKind Kind, IKubernetesObject<V1ObjectMeta> Object)> DependentsOf(string uid) =>
        [.. _kinds.Values.SelectMany(k => k.DependentsOf(uid).Select(o => (k, o)))];

    /// <summary>Whether an owner still exists with the referenced UID: the cache first, then (before concluding "gone") the API server itself.</summary>
    private static async Task<bool> OwnerExistsAsync(TrackedKind? kind, string? @namespace, V1OwnerReference owner, CancellationToken cancellationToken)
    {
        if (kind is null)
        {
            return true;
        }

        var ns = kind.Namespaced ? @namespace : null;
        if (kind.Get(ObjectKey.Of(ns, owner.Name)) is { } cached && cached.Metadata.Uid == owner.Uid)
        {
            return true;
        }

        var live = await kind.ReadLiveAsync(ns, owner.Name, cancellationToken);
        return live is not null && live.Metadata.Uid == owner.Uid;
    }

    private async Task CollectIfOrphanedAsync(TrackedKind kind, IKubernetesObject<V1ObjectMeta> obj, IList<V1OwnerReference> owners, CancellationToken cancellationToken)
    {
        var gone = new List<V1OwnerReference>();
        foreach (var owner in owners)
        {
            if (!await OwnerExistsAsync(Find(owner), obj.Metadata.NamespaceProperty, owner, cancellationToken))
            {
                gone.Add(owner);
            }
        }

        if (gone.Count == 0)
        {
            return;
        }

        if (gone.Count == owners.Count)
        {
            if (obj.Metadata.DeletionTimestamp is null)
            {
                await ApiCalls.IgnoreNotFoundAsync(kind.DeleteAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name, new V1DeleteOptions
                {
                    PropagationPolicy = "Background",
                    Preconditions = new V1Preconditions { Uid = obj.Metadata.Uid },
                }, cancellationToken));
            }

            return;
        }

        await SetOwnersAsync(kind, obj, owners.Where(o => !gone.Contains(o)), cancellationToken);
    }

    private async Task OrphanDependentsAsync(TrackedKind kind, IKubernetesObject<V1ObjectMeta> owner, CancellationToken cancellationToken)
    {
        foreach (var (dependentKind, dependent) in DependentsOf(owner.Metadata.Uid))
        {
            await SetOwnersAsync(dependentKind, dependent, dependent.Metadata.OwnerReferences.Where(r => r.Uid != owner.Metadata.Uid), cancellationToken);
        }

        await RemoveFinalizerAsync(kind, owner, OrphanFinalizer, cancellationToken);
    }

    private async Task<Reconciled> DeleteDependentsFirstAsync(TrackedKind kind, IKubernetesObject<V1ObjectMeta> owner, CancellationToken cancellationToken)
    {
        var dependents = DependentsOf(owner.Metadata.Uid);
        foreach (var (dependentKind, dependent) in dependents.Where(d => d.Object.Metadata.DeletionTimestamp is null))
        {
            // A dependent with dependents of its own goes in the foreground too, so the chain empties bottom-up.
            var policy = DependentsOf(dependent.Metadata.Uid).Count > 0 ? "Foreground" : "Background";
            await ApiCalls.IgnoreNotFoundAsync(dependentKind.DeleteAsync(dependent.Metadata.NamespaceProperty, dependent.Metadata.Name, new V1DeleteOptions
            {
                PropagationPolicy = policy,
                Preconditions = new V1Preconditions { Uid = dependent.Metadata.Uid },
            }, cancellationToken));
        }

        var blocking = dependents.Count(d => d.Object.Metadata.OwnerReferences?.Any(r => r.Uid == owner.Metadata.Uid && r.BlockOwnerDeletion == true) == true);
        if (blocking > 0)
        {
            return Reconciled.After(ForegroundRecheck);
        }

        await RemoveFinalizerAsync(kind, owner, ForegroundFinalizer, cancellationToken);
        return Reconciled.Done;
    }

    private static async Task SetOwnersAsync(TrackedKind kind, IKubernetesObject<V1ObjectMeta> obj, IEnumerable<V1OwnerReference> owners, CancellationToken cancellationToken)
    {
        var list = new JsonArray([.. owners.Select(o => (JsonNode)JsonNode.Parse(KubernetesJson.Serialize(o))!)]);
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["uid"] = obj.Metadata.Uid, ["ownerReferences"] = list.Count == 0 ? null : list } };
        await ApiCalls.IgnoreNotFoundAsync(kind.PatchAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name, patch, cancellationToken));
    }

    private static async Task RemoveFinalizerAsync(TrackedKind kind, IKubernetesObject<V1ObjectMeta> obj, string finalizer, CancellationToken cancellationToken)
    {
        // Guarded by resourceVersion: a finalizer someone added meanwhile is not lost (a 409 retries from the cache).
        var rest = new JsonArray([.. obj.Metadata.Finalizers.Where(f => f != finalizer).Select(f => (JsonNode)f)]);
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = obj.Metadata.ResourceVersion, ["finalizers"] = rest.Count == 0 ? null : rest } };
        await ApiCalls.IgnoreNotFoundAsync(kind.PatchAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name, patch, cancellationToken));
    }

}
