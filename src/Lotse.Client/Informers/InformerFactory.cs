using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Client.Informers;

/// <summary>
/// Shared informers: one per kind for all the loops of a process, so ten controllers that follow
/// pods cost one list and one watch. Ask for informers first, then <see cref="RunAsync"/> them.
/// </summary>
public sealed class InformerFactory(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider? time = null, TimeSpan resync = default)
{
    private readonly Dictionary<Type, IInformer> _informers = [];
    private readonly Lock _gate = new();

    public IKubernetes Client => client;

    public Informer<V1Namespace> Namespaces() => Get(ListWatches.Namespaces);

    public Informer<V1Node> Nodes() => Get(ListWatches.Nodes);

    public Informer<V1Pod> Pods() => Get(c => ListWatches.Pods(c));

    public Informer<V1ServiceAccount> ServiceAccounts() => Get(ListWatches.ServiceAccounts);

    public Informer<V1ConfigMap> ConfigMaps() => Get(c => ListWatches.ConfigMaps(c));

    public Informer<V1ReplicaSet> ReplicaSets() => Get(ListWatches.ReplicaSets);

    public Informer<V1Deployment> Deployments() => Get(ListWatches.Deployments);

    public Informer<V1Service> Services() => Get(ListWatches.Services);

    public Informer<V1Endpoints> Endpoints() => Get(ListWatches.Endpoints);

    public Informer<V1EndpointSlice> EndpointSlices() => Get(ListWatches.EndpointSlices);

    public Informer<V1StatefulSet> StatefulSets() => Get(ListWatches.StatefulSets);

    public Informer<V1DaemonSet> DaemonSets() => Get(ListWatches.DaemonSets);

    public Informer<V1ControllerRevision> ControllerRevisions() => Get(ListWatches.ControllerRevisions);

    public Informer<V1CronJob> CronJobs() => Get(ListWatches.CronJobs);

    public Informer<V1Job> Jobs() => Get(ListWatches.Jobs);

    public Informer<V1PodDisruptionBudget> PodDisruptionBudgets() => Get(ListWatches.PodDisruptionBudgets);

    public Informer<V1Lease> Leases() => Get(ListWatches.Leases);

    public Informer<V1ReplicationController> ReplicationControllers() => Get(ListWatches.ReplicationControllers);

    public Informer<V2HorizontalPodAutoscaler> HorizontalPodAutoscalers() => Get(ListWatches.HorizontalPodAutoscalers);

    public Informer<V1PersistentVolumeClaim> PersistentVolumeClaims() => Get(ListWatches.PersistentVolumeClaims);

    public Informer<V1PersistentVolume> PersistentVolumes() => Get(ListWatches.PersistentVolumes);

    public Informer<V1StorageClass> StorageClasses() => Get(ListWatches.StorageClasses);

    public IReadOnlyList<IInformer> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _informers.Values];
            }
        }
    }

    /// <summary>Runs every informer asked for so far until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(All.Select(i => i.RunAsync(cancellationToken)));

    private Informer<T> Get<T>(Func<IKubernetes, ListWatch<T>> source)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            if (!_informers.TryGetValue(typeof(T), out var informer))
            {
                var listWatch = source(client);
                _informers[typeof(T)] = informer = new Informer<T>(listWatch, loggerFactory.CreateLogger($"Lotse.Client.Informer.{listWatch.Kind}"), time, resync);
            }

            return (Informer<T>)informer;
        }
    }
}
