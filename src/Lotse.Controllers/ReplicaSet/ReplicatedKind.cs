using k8s;
using k8s.Models;
using Lotse.Client.Informers;

namespace Lotse.Controllers.ReplicaSet;

/// <summary>
/// What a <see cref="ReplicaSetController"/> manages: ReplicaSets, or ReplicationControllers seen as
/// ReplicaSets (kube runs the same controller over converted ReplicationControllers: a map selector
/// becomes matchLabels, defaulting to the template's labels).
/// </summary>
public sealed class ReplicatedKind
{
    public required string ApiVersion { get; init; }

    public required string Kind { get; init; }

    /// <summary>The controller's name (logs, metrics) and the event source kube uses for it.</summary>
    public required string ControllerName { get; init; }

    public required string Component { get; init; }

    public required IInformer Informer { get; init; }

    public required Func<string, V1ReplicaSet?> Get { get; init; }

    public required Func<string, IEnumerable<V1ReplicaSet>> ByNamespace { get; init; }

    /// <summary>Registers an action for every change of an object of this kind.</summary>
    public required Action<Action<V1ReplicaSet>> OnChange { get; init; }

    public required Func<IKubernetes, V1Patch, string, string, CancellationToken, Task> PatchStatusAsync { get; init; }

    public static ReplicatedKind ReplicaSets(InformerFactory informers)
    {
        var sets = informers.ReplicaSets();
        return new ReplicatedKind
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            ControllerName = "replicaset",
            Component = "replicaset-controller",
            Informer = sets,
            Get = sets.Get,
            ByNamespace = sets.ByNamespace,
            OnChange = action => sets.AddHandler(InformerHandler.ForAll(action)),
            PatchStatusAsync = (client, patch, name, ns, ct) => client.AppsV1.PatchNamespacedReplicaSetStatusAsync(patch, name, ns, cancellationToken: ct),
        };
    }

    public static ReplicatedKind ReplicationControllers(InformerFactory informers)
    {
        var controllers = informers.ReplicationControllers();
        return new ReplicatedKind
        {
            ApiVersion = "v1",
            Kind = "ReplicationController",
            ControllerName = "replicationcontroller",
            Component = "replication-controller",
            Informer = controllers,
            Get = key => controllers.Get(key) is { } rc ? AsReplicaSet(rc) : null,
            ByNamespace = ns => controllers.ByNamespace(ns).Select(AsReplicaSet),
            OnChange = action => controllers.AddHandler(InformerHandler.ForAll<V1ReplicationController>(rc => action(AsReplicaSet(rc)))),
            PatchStatusAsync = (client, patch, name, ns, ct) => client.CoreV1.PatchNamespacedReplicationControllerStatusAsync(patch, name, ns, cancellationToken: ct),
        };
    }

    /// <summary>The ReplicaSet view of a ReplicationController; kind and apiVersion stay the controller's (owner references, events).</summary>
    internal static V1ReplicaSet AsReplicaSet(V1ReplicationController rc)
    {
        var selector = rc.Spec?.Selector is { Count: > 0 } labels ? labels : rc.Spec?.Template?.Metadata?.Labels;
        return new V1ReplicaSet
        {
            ApiVersion = "v1",
            Kind = "ReplicationController",
            Metadata = rc.Metadata,
            Spec = new V1ReplicaSetSpec
            {
                Replicas = rc.Spec?.Replicas ?? 1,
                MinReadySeconds = rc.Spec?.MinReadySeconds,
                Selector = new V1LabelSelector { MatchLabels = selector is null ? null : new Dictionary<string, string>(selector) },
                Template = rc.Spec?.Template,
            },
            Status = rc.Status is not { } status ? null : new V1ReplicaSetStatus
            {
                Replicas = status.Replicas,
                FullyLabeledReplicas = status.FullyLabeledReplicas,
                ReadyReplicas = status.ReadyReplicas,
                AvailableReplicas = status.AvailableReplicas,
                ObservedGeneration = status.ObservedGeneration,
            },
        };
    }
}
