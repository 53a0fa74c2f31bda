using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.RootCaPublisher;

/// <summary>
/// Kubernetes' root-ca-cert-publisher: a ConfigMap <c>kube-root-ca.crt</c> with the cluster CA under
/// <c>ca.crt</c> in every active namespace, so pods can verify the API server; put back when
/// deleted or changed.
/// </summary>
public sealed class RootCaPublisher : Controller
{
    public const string ConfigMapName = "kube-root-ca.crt";
    public const string DataKey = "ca.crt";
    private readonly IKubernetes _client;
    private readonly string _caPem;
    private readonly Informer<V1Namespace> _namespaces;
    private readonly Informer<V1ConfigMap> _configMaps;

    public RootCaPublisher(InformerFactory informers, string caPem, ILoggerFactory loggerFactory, TimeProvider? time = null)
        : base("root-ca-cert-publisher", loggerFactory.CreateLogger<RootCaPublisher>(), time)
    {
        _client = informers.Client;
        _caPem = caPem;
        _namespaces = informers.Namespaces();
        _configMaps = informers.ConfigMaps();
        _namespaces.AddHandler(new InformerHandler<V1Namespace>(onAdd: ns => Queue.Add(ns.Metadata.Name), onUpdate: (_, ns) => Queue.Add(ns.Metadata.Name)));
        _configMaps.AddHandler(InformerHandler.ForAll<V1ConfigMap>(cm =>
        {
            if (cm.Metadata.Name == ConfigMapName)
            {
                Queue.Add(cm.Metadata.NamespaceProperty);
            }
        }));
    }

    protected override IEnumerable<IInformer> Informers => [_namespaces, _configMaps];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var ns = _namespaces.Get(key);
        if (ns is null || ns.Metadata.DeletionTimestamp is not null || ns.Status?.Phase == "Terminating")
        {
            return Reconciled.Done;
        }

        var existing = _configMaps.Get(key, ConfigMapName);
        if (existing?.Data?.TryGetValue(DataKey, out var pem) == true && pem == _caPem)
        {
            return Reconciled.Done;
        }

        var desired = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = ConfigMapName, NamespaceProperty = key, ResourceVersion = existing?.Metadata.ResourceVersion, Labels = existing?.Metadata.Labels, Annotations = existing?.Metadata.Annotations },
            Data = new Dictionary<string, string> { [DataKey] = _caPem },
        };
        try
        {
            if (existing is null)
            {
                await _client.CoreV1.CreateNamespacedConfigMapAsync(desired, key, cancellationToken: cancellationToken);
            }
            else
            {
                await _client.CoreV1.ReplaceNamespacedConfigMapAsync(desired, ConfigMapName, key, cancellationToken: cancellationToken);
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            // The namespace is going away.
        }

        return Reconciled.Done;
    }
}
