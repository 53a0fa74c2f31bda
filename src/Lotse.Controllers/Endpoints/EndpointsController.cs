using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Endpoints;

/// <summary>
/// Kubernetes' Endpoints controller: for every service with a selector, an Endpoints object of the
/// same name whose subsets list the selected pods' IPs (ready ones under <c>addresses</c>, the rest
/// under <c>notReadyAddresses</c>) with the service ports resolved per pod; deleted with the service.
/// </summary>
public sealed class EndpointsController : Controller
{
    private readonly IKubernetes _client;
    private readonly Informer<V1Service> _services;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Endpoints> _endpoints;

    public EndpointsController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 3)
        : base("endpoints", loggerFactory.CreateLogger<EndpointsController>(), time, workers)
    {
        _client = informers.Client;
        _services = informers.Services();
        _pods = informers.Pods();
        _endpoints = informers.Endpoints();
        _services.AddHandler(InformerHandler.ForAll<V1Service>(s => Queue.Add(ObjectKey.Of(s))));
        _endpoints.AddHandler(InformerHandler.ForAll<V1Endpoints>(e => Queue.Add(ObjectKey.Of(e))));
        _pods.AddHandler(new InformerHandler<V1Pod>(EnqueueServicesOf, (old, pod) =>
        {
            EnqueueServicesOf(old);
            EnqueueServicesOf(pod);
        }, EnqueueServicesOf));
    }

    protected override IEnumerable<IInformer> Informers => [_services, _pods, _endpoints];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var service = _services.Get(key);
        var existing = _endpoints.Get(key);
        if (service is null)
        {
            // kube deletes the Endpoints of a deleted service (whoever made them).
            if (existing is not null)
            {
                await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.DeleteNamespacedEndpointsAsync(name, ns, cancellationToken: cancellationToken));
            }

            return Reconciled.Done;
        }

        if (!ServiceBackends.IsManaged(service))
        {
            return Reconciled.Done;
        }

        var subsets = ServiceBackends.Group(service, _pods.ByNamespace(ns!), includeTerminating: false)
            .Select(g => new V1EndpointSubset
            {
                Addresses = NullIfEmpty([.. g.Backends.Where(b => b.Ready).Select(Address)]),
                NotReadyAddresses = NullIfEmpty([.. g.Backends.Where(b => !b.Ready).Select(Address)]),
                Ports = NullIfEmpty([.. g.Ports.Select(p => new Corev1EndpointPort { Name = p.Name, Port = p.Port, Protocol = p.Protocol, AppProtocol = p.AppProtocol })]),
            })
            .Where(s => s.Addresses is not null || s.NotReadyAddresses is not null)
            .ToList();
        var desired = new V1Endpoints
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Labels = service.Metadata.Labels is { Count: > 0 } labels ? new Dictionary<string, string>(labels) : null,
                ResourceVersion = existing?.Metadata.ResourceVersion,
            },
            Subsets = subsets.Count == 0 ? null : subsets,
        };
        if (existing is not null && KubernetesJson.Serialize(existing.Subsets ?? []) == KubernetesJson.Serialize(desired.Subsets ?? [])
            && KubernetesJson.Serialize(existing.Metadata.Labels ?? new Dictionary<string, string>()) == KubernetesJson.Serialize(desired.Metadata.Labels ?? new Dictionary<string, string>()))
        {
            return Reconciled.Done;
        }

        if (existing is null)
        {
            await _client.CoreV1.CreateNamespacedEndpointsAsync(desired, ns, cancellationToken: cancellationToken);
        }
        else
        {
            await _client.CoreV1.ReplaceNamespacedEndpointsAsync(desired, name, ns, cancellationToken: cancellationToken);
        }

        return Reconciled.Done;
    }

    private static V1EndpointAddress Address(Backend backend) => new()
    {
        Ip = backend.Ip,
        NodeName = backend.Pod.Spec?.NodeName,
        TargetRef = new V1ObjectReference { Kind = "Pod", NamespaceProperty = backend.Pod.Metadata.NamespaceProperty, Name = backend.Pod.Metadata.Name, Uid = backend.Pod.Metadata.Uid },
    };

    private static List<T>? NullIfEmpty<T>(List<T> list) => list.Count == 0 ? null : list;

    private void EnqueueServicesOf(V1Pod pod)
    {
        foreach (var key in ServiceBackends.ServicesSelecting(_services, pod))
        {
            Queue.Add(key);
        }
    }

}
