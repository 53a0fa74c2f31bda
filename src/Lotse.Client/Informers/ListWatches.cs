using k8s;
using k8s.Models;

namespace Lotse.Client.Informers;

/// <summary>List and watch, across all namespaces, for the kinds the control plane's loops follow.</summary>
public static class ListWatches
{
    /// <summary>List pages of this many objects, as client-go's reflector does (bounded memory per response).</summary>
    public const int PageSize = 500;

    /// <summary>The server ends a watch after about this long; the informer then resumes it (as client-go asks for 5–10 min).</summary>
    private const int WatchTimeoutSeconds = 300;

    public static ListWatch<V1Namespace> Namespaces(IKubernetes client) => new(
        "Namespace",
        async (next, ct) => Page(await client.CoreV1.ListNamespaceAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListNamespaceAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Node> Nodes(IKubernetes client) => new(
        "Node",
        async (next, ct) => Page(await client.CoreV1.ListNodeAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Pod> Pods(IKubernetes client, string? fieldSelector = null) => new(
        "Pod",
        async (next, ct) => Page(await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ServiceAccount> ServiceAccounts(IKubernetes client) => new(
        "ServiceAccount",
        async (next, ct) => Page(await client.CoreV1.ListServiceAccountForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ConfigMap> ConfigMaps(IKubernetes client, string? fieldSelector = null) => new(
        "ConfigMap",
        async (next, ct) => Page(await client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: fieldSelector, limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ReplicaSet> ReplicaSets(IKubernetes client) => new(
        "ReplicaSet",
        async (next, ct) => Page(await client.AppsV1.ListReplicaSetForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AppsV1.WatchListReplicaSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Deployment> Deployments(IKubernetes client) => new(
        "Deployment",
        async (next, ct) => Page(await client.AppsV1.ListDeploymentForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AppsV1.WatchListDeploymentForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Service> Services(IKubernetes client) => new(
        "Service",
        async (next, ct) => Page(await client.CoreV1.ListServiceForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Endpoints> Endpoints(IKubernetes client) => new(
        "Endpoints",
        async (next, ct) => Page(await client.CoreV1.ListEndpointsForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListEndpointsForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1EndpointSlice> EndpointSlices(IKubernetes client) => new(
        "EndpointSlice",
        async (next, ct) => Page(await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1StatefulSet> StatefulSets(IKubernetes client) => new(
        "StatefulSet",
        async (next, ct) => Page(await client.AppsV1.ListStatefulSetForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AppsV1.WatchListStatefulSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1DaemonSet> DaemonSets(IKubernetes client) => new(
        "DaemonSet",
        async (next, ct) => Page(await client.AppsV1.ListDaemonSetForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AppsV1.WatchListDaemonSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ControllerRevision> ControllerRevisions(IKubernetes client) => new(
        "ControllerRevision",
        async (next, ct) => Page(await client.AppsV1.ListControllerRevisionForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AppsV1.WatchListControllerRevisionForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1CronJob> CronJobs(IKubernetes client) => new(
        "CronJob",
        async (next, ct) => Page(await client.BatchV1.ListCronJobForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.BatchV1.WatchListCronJobForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Job> Jobs(IKubernetes client) => new(
        "Job",
        async (next, ct) => Page(await client.BatchV1.ListJobForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.BatchV1.WatchListJobForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1PodDisruptionBudget> PodDisruptionBudgets(IKubernetes client) => new(
        "PodDisruptionBudget",
        async (next, ct) => Page(await client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.PolicyV1.WatchListPodDisruptionBudgetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Lease> Leases(IKubernetes client) => new(
        "Lease",
        async (next, ct) => Page(await client.CoordinationV1.ListLeaseForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoordinationV1.WatchListLeaseForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ReplicationController> ReplicationControllers(IKubernetes client) => new(
        "ReplicationController",
        async (next, ct) => Page(await client.CoreV1.ListReplicationControllerForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListReplicationControllerForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V2HorizontalPodAutoscaler> HorizontalPodAutoscalers(IKubernetes client) => new(
        "HorizontalPodAutoscaler",
        async (next, ct) => Page(await client.AutoscalingV2.ListHorizontalPodAutoscalerForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.AutoscalingV2.WatchListHorizontalPodAutoscalerForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1PersistentVolumeClaim> PersistentVolumeClaims(IKubernetes client) => new(
        "PersistentVolumeClaim",
        async (next, ct) => Page(await client.CoreV1.ListPersistentVolumeClaimForAllNamespacesAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListPersistentVolumeClaimForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1PersistentVolume> PersistentVolumes(IKubernetes client) => new(
        "PersistentVolume",
        async (next, ct) => Page(await client.CoreV1.ListPersistentVolumeAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.CoreV1.WatchListPersistentVolumeAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static ListWatch<V1StorageClass> StorageClasses(IKubernetes client) => new(
        "StorageClass",
        async (next, ct) => Page(await client.StorageV1.ListStorageClassAsync(limit: PageSize, continueParameter: next, cancellationToken: ct)),
        (rv, onError, ct) => client.StorageV1.WatchListStorageClassAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    private static ListPage<T> Page<T>(IItems<T> list) where T : class =>
        new(list.Items ?? [], ((IMetadata<V1ListMeta>)list).Metadata?.ResourceVersion ?? "0", ((IMetadata<V1ListMeta>)list).Metadata?.ContinueProperty is { Length: > 0 } next ? next : null);
}
