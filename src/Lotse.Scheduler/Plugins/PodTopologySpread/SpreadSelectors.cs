using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;

namespace Lotse.Scheduler.Plugins.PodTopologySpread;

/// <summary>
/// The selector the default spread constraints use for a pod (kube's DefaultSelector): the
/// selectors of the Services that select it, merged with that of its controlling
/// ReplicationController, ReplicaSet or StatefulSet. None (null) for a pod nothing owns or serves.
/// </summary>
public sealed class SpreadSelectors(InformerFactory informers)
{
    private readonly Informer<V1Service> _services = informers.Services();
    private readonly Informer<V1ReplicationController> _controllers = informers.ReplicationControllers();
    private readonly Informer<V1ReplicaSet> _replicaSets = informers.ReplicaSets();
    private readonly Informer<V1StatefulSet> _statefulSets = informers.StatefulSets();

    public IEnumerable<IInformer> Informers => [_services, _controllers, _replicaSets, _statefulSets];

    public V1LabelSelector? Of(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in _services.ByNamespace(ns))
        {
            if (service.Spec?.Selector is { Count: > 0 } selector && selector.All(l => pod.Metadata.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value))
            {
                Merge(labels, selector);
            }
        }

        IList<V1LabelSelectorRequirement>? expressions = null;
        switch (Owners.ControllerOf(pod))
        {
            case { Kind: "ReplicationController", ApiVersion: "v1" } owner when _controllers.Get(ns, owner.Name)?.Spec?.Selector is { } selector:
                Merge(labels, selector);
                break;
            case { Kind: "ReplicaSet", ApiVersion: "apps/v1" } owner when _replicaSets.Get(ns, owner.Name)?.Spec?.Selector is { } selector:
                Merge(labels, selector.MatchLabels);
                expressions = selector.MatchExpressions;
                break;
            case { Kind: "StatefulSet", ApiVersion: "apps/v1" } owner when _statefulSets.Get(ns, owner.Name)?.Spec?.Selector is { } selector:
                Merge(labels, selector.MatchLabels);
                expressions = selector.MatchExpressions;
                break;
        }

        var result = new V1LabelSelector { MatchLabels = labels, MatchExpressions = expressions };
        return LabelSelectors.IsEmpty(result) ? null : result;
    }

    private static void Merge(Dictionary<string, string> labels, IDictionary<string, string>? more)
    {
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            labels[key] = value;
        }
    }
}
