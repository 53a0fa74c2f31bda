using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Namespace;

/// <summary>
/// Kubernetes' namespace controller: a namespace being deleted is emptied of everything in it,
/// and once nothing is left its <c>kubernetes</c> finalizer is removed through
/// <c>namespaces/{name}/finalize</c>, which lets the API server delete it. Content that takes time
/// to go (pods stopping on their node, objects with finalizers) is looked at again shortly.
/// </summary>
public sealed class NamespaceController : Controller
{
    public const string Finalizer = "kubernetes";
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(1);
    private readonly IKubernetes _client;
    private readonly Informer<V1Namespace> _namespaces;

    public NamespaceController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null)
        : base("namespace", loggerFactory.CreateLogger<NamespaceController>(), time, workers: 2)
    {
        _client = informers.Client;
        _namespaces = informers.Namespaces();
        _namespaces.AddHandler(InformerHandler.ForAll<V1Namespace>(ns =>
        {
            if (ns.Metadata?.DeletionTimestamp is not null)
            {
                Queue.Add(ns.Metadata.Name);
            }
        }));
    }

    protected override IEnumerable<IInformer> Informers => [_namespaces];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var ns = _namespaces.Get(key);
        if (ns?.Metadata.DeletionTimestamp is null || ns.Spec?.Finalizers?.Contains(Finalizer) != true)
        {
            return Reconciled.Done;
        }

        var left = new List<string>();
        foreach (var content in NamespaceContent.BuiltIn.Concat(await NamespaceContent.CustomAsync(_client, cancellationToken)))
        {
            await content.DeleteAll(_client, key, cancellationToken);
            if (await content.AnyLeft(_client, key, cancellationToken))
            {
                left.Add(content.Resource);
            }
        }

        if (left.Count > 0)
        {
            await SetConditionAsync(ns, $"Some resources are remaining: {string.Join(", ", left)}", cancellationToken);
            return Reconciled.After(RecheckAfter);
        }

        var finalized = new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = key, ResourceVersion = ns.Metadata.ResourceVersion },
            Spec = new V1NamespaceSpec { Finalizers = [.. ns.Spec.Finalizers.Where(f => f != Finalizer)] },
        };
        try
        {
            await _client.CoreV1.ReplaceNamespaceFinalizeAsync(finalized, key, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Gone already.
        }

        return Reconciled.Done;
    }

    /// <summary>The NamespaceContentRemaining condition kubectl describe shows while content drains.</summary>
    private async Task SetConditionAsync(V1Namespace ns, string message, CancellationToken cancellationToken)
    {
        var existing = ns.Status?.Conditions?.FirstOrDefault(c => c.Type == "NamespaceContentRemaining");
        if (existing?.Message == message)
        {
            return;
        }

        var patch = new
        {
            status = new
            {
                conditions = new[]
                {
                    new { type = "NamespaceContentRemaining", status = "True", reason = "SomeResourcesRemain", message, lastTransitionTime = Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) },
                },
            },
        };
        await _client.CoreV1.PatchNamespaceStatusAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), ns.Metadata.Name, cancellationToken: cancellationToken);
    }
}
