using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.ServiceAccount;

/// <summary>Kubernetes' service-account controller: every active namespace has a <c>default</c> ServiceAccount, recreated if deleted.</summary>
public sealed class ServiceAccountController : Controller
{
    public const string DefaultName = "default";
    private readonly IKubernetes _client;
    private readonly Informer<V1Namespace> _namespaces;
    private readonly Informer<V1ServiceAccount> _accounts;

    public ServiceAccountController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null)
        : base("serviceaccount", loggerFactory.CreateLogger<ServiceAccountController>(), time)
    {
        _client = informers.Client;
        _namespaces = informers.Namespaces();
        _accounts = informers.ServiceAccounts();
        _namespaces.AddHandler(new InformerHandler<V1Namespace>(onAdd: ns => Queue.Add(ns.Metadata.Name), onUpdate: (_, ns) => Queue.Add(ns.Metadata.Name)));
        _accounts.AddHandler(new InformerHandler<V1ServiceAccount>(onDelete: sa => Queue.Add(sa.Metadata.NamespaceProperty)));
    }

    protected override IEnumerable<IInformer> Informers => [_namespaces, _accounts];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var ns = _namespaces.Get(key);
        if (ns is null || ns.Metadata.DeletionTimestamp is not null || ns.Status?.Phase == "Terminating" || _accounts.Get(key, DefaultName) is not null)
        {
            return Reconciled.Done;
        }

        try
        {
            await _client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = DefaultName } }, key, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            // Already there (the cache lags), or the namespace is going away.
        }

        return Reconciled.Done;
    }
}
