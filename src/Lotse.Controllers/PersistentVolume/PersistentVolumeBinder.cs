using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.PersistentVolume;

/// <summary>
/// Kubernetes' PersistentVolume controller with K3s' local-path provisioner built in: a claim is bound
/// to the smallest available volume that fits it (class, access modes, size, selector) or, for the
/// local-path class, to a hostPath volume made for it under the storage path on the node the
/// scheduler chose (WaitForFirstConsumer), pinned there by node affinity. Claims without a class get
/// the default class (kube's retroactive default assignment). A volume whose claim is gone is
/// Released, and deleted when its reclaim policy says Delete.
/// </summary>
public sealed partial class PersistentVolumeBinder : Controller
{
    private const string ClaimPrefix = "claim:";
    private const string VolumePrefix = "volume:";
    private const string EnsureClassKey = "class";
    private const string DefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
    private const string SelectedNodeAnnotation = "volume.kubernetes.io/selected-node";

    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly LocalPathOptions _options;
    private readonly Informer<V1PersistentVolumeClaim> _claims;
    private readonly Informer<V1PersistentVolume> _volumes;
    private readonly Informer<V1StorageClass> _classes;
    private readonly Informer<V1Pod> _pods;

    public PersistentVolumeBinder(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, LocalPathOptions? options = null)
        : base("persistentvolume-binder", loggerFactory.CreateLogger<PersistentVolumeBinder>(), time)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "persistentvolume-controller");
        _options = options ?? new LocalPathOptions();
        _claims = informers.PersistentVolumeClaims();
        _volumes = informers.PersistentVolumes();
        _classes = informers.StorageClasses();
        _pods = informers.Pods();
        _claims.AddHandler(InformerHandler.ForAll<V1PersistentVolumeClaim>(c =>
        {
            Queue.Add(ClaimPrefix + ObjectKey.Of(c));
            if (c.Spec?.VolumeName is { Length: > 0 } volume)
            {
                Queue.Add(VolumePrefix + volume); // a claim that goes releases its volume
            }
        }));
        _volumes.AddHandler(InformerHandler.ForAll<V1PersistentVolume>(v =>
        {
            Queue.Add(VolumePrefix + v.Metadata.Name);
            if (v.Spec?.ClaimRef is { } claim)
            {
                Queue.Add(ClaimPrefix + ObjectKey.Of(claim.NamespaceProperty, claim.Name));
            }
        }));
        _classes.AddHandler(InformerHandler.ForAll<V1StorageClass>(_ =>
        {
            foreach (var claim in _claims.List().Where(c => c.Status?.Phase != "Bound"))
            {
                Queue.Add(ClaimPrefix + ObjectKey.Of(claim));
            }
        }));
        _pods.AddHandler(new InformerHandler<V1Pod>(onAdd: pod =>
        {
            foreach (var volume in pod.Spec?.Volumes ?? [])
            {
                if (volume.PersistentVolumeClaim?.ClaimName is { } claimName && !string.IsNullOrEmpty(pod.Spec?.NodeName))
                {
                    Queue.Add(ClaimPrefix + ObjectKey.Of(pod.Metadata.NamespaceProperty, claimName));
                }
            }
        }));
        Queue.Add(EnsureClassKey);
    }

    protected override IEnumerable<IInformer> Informers => [_claims, _volumes, _classes, _pods];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (key == EnsureClassKey)
        {
            await EnsureDefaultClassAsync(cancellationToken);
        }
        else if (key.StartsWith(ClaimPrefix, StringComparison.Ordinal) && _claims.Get(key[ClaimPrefix.Length..]) is { } claim)
        {
            await SyncClaimAsync(claim, cancellationToken);
        }
        else if (key.StartsWith(VolumePrefix, StringComparison.Ordinal) && _volumes.Get(key[VolumePrefix.Length..]) is { } volume)
        {
            await SyncVolumeAsync(volume, cancellationToken);
        }

        return Reconciled.Done;
    }

    /// <summary>K3s ships its local-path class as the default; made once at start, left alone after.</summary>
    private async Task EnsureDefaultClassAsync(CancellationToken cancellationToken)
    {
        if (_classes.Get(_options.ClassName) is not null)
        {
            return;
        }

        try
        {
            await _client.StorageV1.CreateStorageClassAsync(new V1StorageClass
            {
                Metadata = new V1ObjectMeta { Name = _options.ClassName, Annotations = new Dictionary<string, string> { [DefaultClassAnnotation] = "true" } },
                Provisioner = LocalPathOptions.Provisioner,
                ReclaimPolicy = "Delete",
                VolumeBindingMode = "WaitForFirstConsumer",
            }, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made meanwhile.
        }
    }

    private async Task SyncClaimAsync(V1PersistentVolumeClaim claim, CancellationToken cancellationToken)
    {
        if (claim.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        if (claim.Spec.StorageClassName is null && DefaultClass() is { } defaultClass)
        {
            var patch = new JsonObject { ["spec"] = new JsonObject { ["storageClassName"] = defaultClass.Metadata.Name } };
            await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), claim.Metadata.Name, claim.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
            return; // the update brings it back
        }

        if (claim.Spec.VolumeName is { Length: > 0 } named)
        {
            var volume = _volumes.Get(named);
            if (volume is not null && (volume.Spec.ClaimRef is null || volume.Spec.ClaimRef.Uid == claim.Metadata.Uid))
            {
                await BindAsync(volume, claim, cancellationToken);
            }

            return;
        }

        var className = claim.Spec.StorageClassName ?? string.Empty;
        var storageClass = className.Length == 0 ? null : _classes.Get(className);
        var waits = storageClass?.VolumeBindingMode == "WaitForFirstConsumer";
        var selectedNode = claim.Metadata.Annotations?.TryGetValue(SelectedNodeAnnotation, out var node) == true ? node : NodeOfAScheduledUser(claim);
        if ((!waits || selectedNode is not null) && BestMatch(claim) is { } match)
        {
            await BindAsync(match, claim, cancellationToken);
            return;
        }

        if (storageClass?.Provisioner == LocalPathOptions.Provisioner)
        {
            if (selectedNode is null)
            {
                _events.Record(claim, EventRecorder.Normal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
                return;
            }

            var provisioned = await ProvisionAsync(claim, storageClass, selectedNode, cancellationToken);
            await BindAsync(provisioned, claim, cancellationToken);
            return;
        }

        if (className.Length > 0 && storageClass is null)
        {
            _events.Record(claim, EventRecorder.Warning, "ProvisioningFailed", $"storageclass.storage.k8s.io \"{className}\" not found");
        }
        else if (storageClass is not null)
        {
            _events.Record(claim, EventRecorder.Normal, "ExternalProvisioning", $"Waiting for a volume to be created either by the external provisioner '{storageClass.Provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.");
        }
        else
        {
            _events.Record(claim, EventRecorder.Normal, "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
        }
    }

    /// <summary>A pod placed without the scheduler (spec.nodeName set by its author) names the node itself.</summary>
    private string? NodeOfAScheduledUser(V1PersistentVolumeClaim claim) =>
        _pods.ByNamespace(claim.Metadata.NamespaceProperty)
            .Where(p => p.Spec?.NodeName is { Length: > 0 } && p.Spec.Volumes?.Any(v => v.PersistentVolumeClaim?.ClaimName == claim.Metadata.Name) == true)
            .Select(p => p.Spec.NodeName)
            .FirstOrDefault();

    private V1StorageClass? DefaultClass() =>
        _classes.List().Where(c => c.Metadata.Annotations?.TryGetValue(DefaultClassAnnotation, out var isDefault) == true && isDefault == "true")
            .OrderByDescending(c => c.Metadata.CreationTimestamp).FirstOrDefault();

    /// <summary>The smallest available volume that satisfies the claim (kube's findBestMatchForClaim).</summary>
    private V1PersistentVolume? BestMatch(V1PersistentVolumeClaim claim)
    {
        var wanted = Storage(claim.Spec.Resources?.Requests);
        var modes = claim.Spec.AccessModes ?? [];
        var className = claim.Spec.StorageClassName ?? string.Empty;
        return _volumes.List()
            .Where(v => v.Spec.ClaimRef is null && v.Metadata.DeletionTimestamp is null && v.Status?.Phase is null or "Available" or "Pending")
            .Where(v => (v.Spec.StorageClassName ?? string.Empty) == className)
            .Where(v => (v.Spec.VolumeMode ?? "Filesystem") == (claim.Spec.VolumeMode ?? "Filesystem"))
            .Where(v => modes.All(m => v.Spec.AccessModes?.Contains(m) == true))
            .Where(v => Storage(v.Spec.Capacity) >= wanted)
            .Where(v => claim.Spec.Selector is null || LabelSelectors.Matches(claim.Spec.Selector, v.Metadata.Labels))
            .OrderBy(v => Storage(v.Spec.Capacity))
            .ThenBy(v => v.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    private static decimal Storage(IDictionary<string, ResourceQuantity>? resources) =>
        resources?.TryGetValue("storage", out var quantity) == true ? quantity.ToDecimal() : 0;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "bound claim {Namespace}/{Name} to volume {Volume}")]
    private static partial void LogBound(ILogger logger, string @namespace, string name, string volume);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "provisioned volume {Volume} at {Path} on node {Node}")]
    private static partial void LogProvisioned(ILogger logger, string volume, string path, string node);
}
