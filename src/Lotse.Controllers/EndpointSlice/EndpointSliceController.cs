using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Endpoints;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.EndpointSlice;

/// <summary>
/// Kubernetes' EndpointSlice controller: for every service with a selector, IPv4 slices of at most
/// 100 endpoints (one set of slices per resolved port list), labelled
/// <c>kubernetes.io/service-name</c> and managed-by, owned by the service (so they go with it);
/// each endpoint carries ready / serving / terminating, nodeName and its pod. Slices are updated in
/// place, extra ones deleted, and nothing is written when nothing changed.
/// </summary>
public sealed class EndpointSliceController : Controller
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ManagedBy = "endpointslice-controller.k8s.io";
    public const int MaxEndpointsPerSlice = 100;
    private const string ServiceIndex = "service";
    private readonly IKubernetes _client;
    private readonly Informer<V1Service> _services;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1EndpointSlice> _slices;

    public EndpointSliceController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 3)
        : base("endpointslice", loggerFactory.CreateLogger<EndpointSliceController>(), time, workers)
    {
        _client = informers.Client;
        _services = informers.Services();
        _pods = informers.Pods();
        _slices = informers.EndpointSlices();
        _slices.AddIndex(ServiceIndex, s => IsOurs(s) ? [ObjectKey.Of(s.Metadata.NamespaceProperty, s.Metadata.Labels[ServiceNameLabel])] : []);
        _services.AddHandler(InformerHandler.ForAll<V1Service>(s => Queue.Add(ObjectKey.Of(s))));
        _slices.AddHandler(InformerHandler.ForAll<V1EndpointSlice>(s =>
        {
            if (IsOurs(s))
            {
                Queue.Add(ObjectKey.Of(s.Metadata.NamespaceProperty, s.Metadata.Labels[ServiceNameLabel]));
            }
        }));
        _pods.AddHandler(new InformerHandler<V1Pod>(EnqueueServicesOf, (old, pod) =>
        {
            EnqueueServicesOf(old);
            EnqueueServicesOf(pod);
        }, EnqueueServicesOf));
    }

    protected override IEnumerable<IInformer> Informers => [_services, _pods, _slices];

    private static bool IsOurs(V1EndpointSlice slice) =>
        slice.Metadata.Labels is { } labels && labels.ContainsKey(ServiceNameLabel) && labels.TryGetValue(ManagedByLabel, out var by) && by == ManagedBy;

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, _) = ObjectKey.Split(key);
        var service = _services.Get(key);
        var existing = _slices.ByIndex(ServiceIndex, key).OrderBy(s => s.Metadata.Name, StringComparer.Ordinal).ToList();
        if (service is null || !ServiceBackends.IsManaged(service))
        {
            // A deleted service's slices go with it (owner reference); a service that lost its selector has none.
            foreach (var slice in existing)
            {
                await ApiCalls.IgnoreNotFoundAsync(_client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(slice.Metadata.Name, ns, cancellationToken: cancellationToken));
            }

            return Reconciled.Done;
        }

        var desired = ServiceBackends.Group(service, _pods.ByNamespace(ns!), includeTerminating: true)
            .SelectMany(g => g.Backends.Chunk(MaxEndpointsPerSlice).Select(chunk => (g.Ports, Endpoints: chunk)))
            .Select(s => Slice(service, s.Ports, s.Endpoints))
            .ToList();
        if (desired.Count == 0)
        {
            // kube keeps one empty slice per service, so readers can tell "no endpoints" from "not yet".
            desired.Add(Slice(service, [], []));
        }

        for (var i = 0; i < desired.Count; i++)
        {
            if (i < existing.Count)
            {
                var current = existing[i];
                if (SameContent(current, desired[i]))
                {
                    continue;
                }

                desired[i].Metadata.Name = current.Metadata.Name;
                desired[i].Metadata.GenerateName = null;
                desired[i].Metadata.ResourceVersion = current.Metadata.ResourceVersion;
                await _client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(desired[i], current.Metadata.Name, ns, cancellationToken: cancellationToken);
            }
            else
            {
                await _client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(desired[i], ns, cancellationToken: cancellationToken);
            }
        }

        foreach (var extra in existing.Skip(desired.Count))
        {
            await ApiCalls.IgnoreNotFoundAsync(_client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(extra.Metadata.Name, ns, cancellationToken: cancellationToken));
        }

        return Reconciled.Done;
    }

    private static V1EndpointSlice Slice(V1Service service, List<BackendPort> ports, Backend[] backends)
    {
        var labels = new Dictionary<string, string>(service.Metadata.Labels ?? new Dictionary<string, string>())
        {
            [ServiceNameLabel] = service.Metadata.Name,
            [ManagedByLabel] = ManagedBy,
        };
        return new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{service.Metadata.Name}-",
                Labels = labels,
                OwnerReferences = [Owners.ControllerReference(service, "v1", "Service")],
            },
            AddressType = "IPv4",
            Endpoints = [.. backends.Select(b => new V1Endpoint
            {
                Addresses = [b.Ip],
                Conditions = new V1EndpointConditions { Ready = b.Ready, Serving = b.Serving, Terminating = b.Terminating },
                NodeName = b.Pod.Spec?.NodeName,
                TargetRef = new V1ObjectReference { Kind = "Pod", NamespaceProperty = b.Pod.Metadata.NamespaceProperty, Name = b.Pod.Metadata.Name, Uid = b.Pod.Metadata.Uid },
            })],
            Ports = [.. ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name ?? string.Empty, Port = p.Port, Protocol = p.Protocol, AppProtocol = p.AppProtocol })],
        };
    }

    private static bool SameContent(V1EndpointSlice a, V1EndpointSlice b) =>
        a.AddressType == b.AddressType
        && KubernetesJson.Serialize(a.Endpoints ?? []) == KubernetesJson.Serialize(b.Endpoints ?? [])
        && KubernetesJson.Serialize(a.Ports ?? []) == KubernetesJson.Serialize(b.Ports ?? [])
        && KubernetesJson.Serialize(a.Metadata.Labels) == KubernetesJson.Serialize(b.Metadata.Labels);

    private void EnqueueServicesOf(V1Pod pod)
    {
        foreach (var key in ServiceBackends.ServicesSelecting(_services, pod))
        {
            Queue.Add(key);
        }
    }

}
