using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Selectors;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.DaemonSet;

/// <summary>
/// Kubernetes' DaemonSet controller: one pod on every node the template fits
/// (<see cref="DaemonPlacement"/>), none elsewhere; failed daemon pods are replaced, extra ones
/// removed. Templates are kept as ControllerRevisions; RollingUpdate replaces old pods while at
/// most <c>maxUnavailable</c> nodes lack an available daemon, or, with <c>maxSurge</c>, starts the
/// new pod beside the old one and removes the old once the new is available; OnDelete replaces
/// only pods someone deleted.
/// </summary>
public sealed partial class DaemonSetController : Controller
{
    private const string ApiVersion = "apps/v1";
    private const string Kind = "DaemonSet";
    private const int Burst = 250;
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V1DaemonSet> _sets;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Node> _nodes;
    private readonly ControllerHistory _history;
    private readonly Expectations _expectations;

    public DaemonSetController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 2)
        : base("daemonset", loggerFactory.CreateLogger<DaemonSetController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "daemonset-controller");
        _sets = informers.DaemonSets();
        _pods = informers.Pods();
        PodClaims.Index(_pods);
        _nodes = informers.Nodes();
        _history = new ControllerHistory(informers);
        _expectations = new Expectations(Time);
        _sets.AddHandler(InformerHandler.ForAll<V1DaemonSet>(s => Queue.Add(ObjectKey.Of(s))));
        _nodes.AddHandler(InformerHandler.ForAll<V1Node>(_ => EnqueueAll()));
        _history.OnChange(Kind, Queue.Add);
        _pods.AddHandler(new InformerHandler<V1Pod>(
            onAdd: pod => Observe(null, pod, removed: false),
            onUpdate: (old, pod) => Observe(old, pod, removed: false),
            onDelete: pod => Observe(null, pod, removed: true)));
    }

    protected override IEnumerable<IInformer> Informers => [_sets, _pods, _nodes, _history.Informer];

    private void EnqueueAll()
    {
        foreach (var set in _sets.List())
        {
            Queue.Add(ObjectKey.Of(set));
        }
    }

    private static string? OwnerKey(V1Pod pod) =>
        Owners.ControllerOf(pod) is { Kind: Kind } owner ? ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name) : null;

    private void Observe(V1Pod? old, V1Pod pod, bool removed)
    {
        if (OwnerKey(pod) is { } key)
        {
            _expectations.Observe(key, old?.Metadata, pod.Metadata, removed);
            Queue.Add(key);
        }
    }

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var set = _sets.Get(key);
        if (set is null)
        {
            _expectations.Forget(key);
            return Reconciled.Done;
        }

        if (set.Metadata.DeletionTimestamp is not null)
        {
            return Reconciled.Done;
        }

        var update = await _history.EnsureAsync(set, ApiVersion, Kind, set.Spec.Template, set.Status?.CollisionCount, cancellationToken);
        var hash = update.Metadata.Labels[ControllerHistory.HashLabel];
        var needsSync = _expectations.Satisfied(key); // before the cache is read (see Expectations)
        var pods = await PodClaims.ClaimAsync(_client, set, ApiVersion, Kind, PodClaims.Candidates(_pods, set), p => LabelSelectors.Matches(set.Spec.Selector, p.Metadata.Labels), cancellationToken);
        var nodes = _nodes.List();
        var plan = DaemonPlan.Make(set, nodes, pods, hash, Time.GetUtcNow());
        if (needsSync)
        {
            await ApplyAsync(set, key, plan, cancellationToken);
        }

        await UpdateStatusAsync(set, plan, cancellationToken);
        var live = new HashSet<string>(pods.Select(p => p.Metadata.Labels?.TryGetValue(ControllerHistory.HashLabel, out var h) == true ? h : null).OfType<string>().Select(h => $"{set.Metadata.Name}-{h}").Append(update.Metadata.Name), StringComparer.Ordinal);
        await _history.TruncateAsync(set, live, set.Spec.RevisionHistoryLimit ?? 10, cancellationToken);
        return plan.RecheckAfter is { } delay ? Reconciled.After(delay) : Reconciled.Done;
    }

    private async Task ApplyAsync(V1DaemonSet set, string key, DaemonPlan plan, CancellationToken cancellationToken)
    {
        var creates = plan.Create.Take(Burst).ToList();
        var deletes = plan.Delete.Take(Burst).ToList();
        if (creates.Count == 0 && deletes.Count == 0)
        {
            return;
        }

        _expectations.Expect(key, creates.Count, deletes.Select(p => p.Metadata.Uid));
        var results = await Task.WhenAll(creates.Select(node => CreatePodAsync(set, node, plan.Hash, cancellationToken)));
        _expectations.LowerCreations(key, results.Count(ok => !ok));
        await PodDeletions.DeleteAsync(_client, _events, _expectations, key, set, deletes, cancellationToken);
    }

    private async Task<bool> CreatePodAsync(V1DaemonSet set, string nodeName, string hash, CancellationToken cancellationToken)
    {
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(set.Spec.Template));
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>()) { [ControllerHistory.HashLabel] = hash };
        var spec = template.Spec;
        spec.Tolerations = DaemonPlacement.Tolerations(spec);
        spec.Affinity = DaemonPlacement.PinTo(spec.Affinity, nodeName);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{set.Metadata.Name}-",
                Labels = labels,
                Annotations = template.Metadata?.Annotations,
                Finalizers = template.Metadata?.Finalizers,
                OwnerReferences = [Owners.ControllerReference(set, ApiVersion, Kind)],
            },
            Spec = spec,
        };
        try
        {
            var created = await _client.CoreV1.CreateNamespacedPodAsync(pod, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _events.Record(set, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
            return true;
        }
        catch (HttpOperationException e)
        {
            LogCreateFailed(Logger, set.Metadata.NamespaceProperty, set.Metadata.Name, nodeName, (int)e.Response.StatusCode, e.Response.Content);
            _events.Record(set, EventRecorder.Warning, "FailedCreate", $"Error creating: {ApiCalls.StatusMessage(e)}");
            return false;
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "daemonset {Namespace}/{Name}: creating the pod for node {Node} failed ({Code}): {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string @namespace, string name, string node, int code, string error);
}
