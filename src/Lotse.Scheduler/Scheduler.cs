using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Queues;
using Lotse.Scheduler.Framework;
using Microsoft.Extensions.Logging;

namespace Lotse.Scheduler;

/// <summary>
/// The scheduler: unbound pods whose schedulerName is ours wait in a de-duplicating queue; each is
/// filtered against a cache of nodes and the pods on them (bound, or assumed from the moment we
/// bind, so a burst cannot overbook a node), the feasible nodes are scored, and the pod is bound to
/// the best through <c>pods/binding</c> — in the background, so the next pod is decided meanwhile.
/// A pod that fits nowhere gets a FailedScheduling event and a PodScheduled=False condition in
/// kube's words, and is tried again when a node or a pod changes (or after a back-off).
/// </summary>
public sealed partial class Scheduler : IDisposable
{
    public const string DefaultName = "default-scheduler";
    private const int MaxBindsInFlight = 256;
    private readonly IKubernetes _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Node> _nodes;
    private readonly WorkQueue _queue;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NodeInfo> _nodeInfos = new(StringComparer.Ordinal);
    private readonly List<NodeInfo> _nodeOrder = [];
    private readonly Dictionary<string, (string Node, PodInfo Pod)> _placed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _unschedulable = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _binds = new(MaxBindsInFlight);
    private readonly EventRecorder _events;
    private readonly IPreFilterPlugin[] _preFilters;
    private readonly IFilterPlugin[] _filters;
    private readonly IScorePlugin[] _scorers;
    private readonly IInformer[] _lookups;
    private readonly Informer<V1PodDisruptionBudget> _budgets;
    private readonly Plugins.VolumeBinding.VolumeBinding _volumes;
    private int _nextStart;
    private long _scheduled;

    public Scheduler(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _client = informers.Client;
        _logger = loggerFactory.CreateLogger<Scheduler>();
        _time = time ?? TimeProvider.System;
        _events = new EventRecorder(_client, DefaultName, Environment.MachineName, _logger, _time);
        _pods = informers.Pods();

        // Higher-priority pods are tried first (kube's activeQ order: priority, then arrival).
        _queue = new WorkQueue(_time, new RateLimiter(_time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), perSecond: 1e6, burst: int.MaxValue), priority: key => _pods.Get(key)?.Spec?.Priority ?? 0);
        _nodes = informers.Nodes();
        var taints = new Plugins.TaintToleration.TaintToleration();
        var affinity = new Plugins.NodeAffinity.NodeAffinity();
        var fit = new Plugins.NodeResourcesFit.NodeResourcesFit();
        _volumes = new Plugins.VolumeBinding.VolumeBinding(informers);
        var owners = new Plugins.PodTopologySpread.SpreadSelectors(informers);
        var namespaces = informers.Namespaces();
        var podAffinity = new Plugins.InterPodAffinity.InterPodAffinity(ns => namespaces.Get(ns)?.Metadata.Labels);
        var spread = new Plugins.PodTopologySpread.PodTopologySpread(owners.Of);
        _budgets = informers.PodDisruptionBudgets();
        _lookups = [namespaces, _budgets, .. owners.Informers];
        _preFilters = [podAffinity, spread];
        _filters = [new Plugins.NodeUnschedulable.NodeUnschedulable(), new Plugins.NodeName.NodeName(), taints, affinity, new Plugins.NodePorts.NodePorts(), fit, _volumes, podAffinity, spread];
        _scorers = [fit, new Plugins.BalancedAllocation.BalancedAllocation(), taints, affinity, podAffinity, spread, new Plugins.ImageLocality.ImageLocality()];
        _nodes.AddHandler(new InformerHandler<V1Node>(UpsertNode, (_, node) => UpsertNode(node), RemoveNode));
        _volumes.OnChange(RetryUnschedulable);
        _pods.AddHandler(new InformerHandler<V1Pod>(OnPod, (_, pod) => OnPod(pod), OnPodDeleted));
    }

    /// <summary>Pods bound so far.</summary>
    public long Scheduled => Interlocked.Read(ref _scheduled);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ScheduleAllAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: a cancelled run ends quietly, as the controllers' do.
        }
    }

    private async Task ScheduleAllAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll([_pods.Synced, _nodes.Synced, .. _volumes.Informers.Select(i => i.Synced), .. _lookups.Select(i => i.Synced)]).WaitAsync(cancellationToken);
        LogStarted(_logger);
        using var stop = cancellationToken.Register(_queue.ShutDown);
        while (await _queue.GetAsync(cancellationToken) is { } key)
        {
            try
            {
                await ScheduleOneAsync(key, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // one pod's failure must not stop scheduling; it is retried
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogFailed(_logger, key, e.Message);
                SchedulerMetrics.Error.Inc();
                _queue.AddRateLimited(key);
            }
            finally
            {
                _queue.Done(key);
                SchedulerMetrics.Active.Set(_queue.Depth);
            }
        }
    }

    public void Dispose()
    {
        _queue.Dispose();
        _binds.Dispose();
    }

    private static bool IsOurs(V1Pod pod) =>
        string.IsNullOrEmpty(pod.Spec?.SchedulerName) || pod.Spec.SchedulerName == DefaultName;

    private static bool Counts(V1Pod pod) => pod.Status?.Phase is not ("Succeeded" or "Failed");

    /// <summary>What about a node can make a waiting pod fit (status heartbeats cannot).</summary>
    private static string Signature(V1Node node) => KubernetesJson.Serialize(new object?[]
    {
        node.Status?.Allocatable ?? node.Status?.Capacity, node.Metadata.Labels, node.Spec?.Taints, node.Spec?.Unschedulable,
    });

    private void UpsertNode(V1Node node)
    {
        lock (_gate)
        {
            if (_nodeInfos.TryGetValue(node.Metadata.Name, out var info))
            {
                var relevant = Signature(info.Node) != Signature(node);
                info.Node = node;
                if (!relevant)
                {
                    return;
                }
            }
            else
            {
                _nodeInfos[node.Metadata.Name] = info = new NodeInfo(node);
                _nodeOrder.Add(info);
                foreach (var (key, placed) in _placed.Where(p => p.Value.Node == node.Metadata.Name))
                {
                    info.Add(placed.Pod);
                }
            }
        }

        RetryUnschedulable();
    }

    private void RemoveNode(V1Node node)
    {
        lock (_gate)
        {
            if (_nodeInfos.Remove(node.Metadata.Name, out var info))
            {
                _nodeOrder.Remove(info);
            }
        }
    }

    private void OnPod(V1Pod pod)
    {
        var key = ObjectKey.Of(pod);
        var freed = false;
        lock (_gate)
        {
            var node = pod.Spec?.NodeName;
            if (!string.IsNullOrEmpty(node) && Counts(pod))
            {
                Place(key, node, new PodInfo(pod));
            }
            else
            {
                freed = Unplace(key);
            }
        }

        if (string.IsNullOrEmpty(pod.Spec?.NodeName) && IsOurs(pod) && pod.Metadata.DeletionTimestamp is null && Counts(pod))
        {
            _queue.Add(key);
        }

        if (freed)
        {
            RetryUnschedulable();
        }
    }

    private void OnPodDeleted(V1Pod pod)
    {
        bool freed;
        lock (_gate)
        {
            freed = Unplace(ObjectKey.Of(pod));
            _unschedulable.Remove(ObjectKey.Of(pod));
        }

        if (freed)
        {
            RetryUnschedulable();
        }
    }

    /// <summary>Accounts a pod on a node (under the lock); a pod assumed on this node already is left as is.</summary>
    private void Place(string key, string node, PodInfo pod)
    {
        if (_placed.TryGetValue(key, out var current))
        {
            if (current.Node == node)
            {
                return;
            }

            _nodeInfos.GetValueOrDefault(current.Node)?.Remove(key);
        }

        _placed[key] = (node, pod);
        _nodeInfos.GetValueOrDefault(node)?.Add(pod);
    }

    private bool Unplace(string key)
    {
        if (!_placed.Remove(key, out var current))
        {
            return false;
        }

        _nodeInfos.GetValueOrDefault(current.Node)?.Remove(key);
        return true;
    }

    /// <summary>Something changed that may let waiting pods fit: try them all again now.</summary>
    private void RetryUnschedulable()
    {
        string[] waiting;
        lock (_gate)
        {
            waiting = [.. _unschedulable.Keys];
        }

        foreach (var key in waiting)
        {
            _queue.Add(key);
        }
    }

    private async Task ScheduleOneAsync(string key, CancellationToken cancellationToken)
    {
        var pod = _pods.Get(key);
        if (pod is null || !string.IsNullOrEmpty(pod.Spec?.NodeName) || pod.Metadata.DeletionTimestamp is not null || !IsOurs(pod) || !Counts(pod))
        {
            lock (_gate)
            {
                _unschedulable.Remove(key);
            }

            _queue.Forget(key);
            return;
        }

        var info = new PodInfo(pod);
        string? chosen;
        string? failure = null;
        Preemption.Candidate? preemption = null;
        lock (_gate)
        {
            chosen = Decide(info, out var reasons, out var nodes);
            if (chosen is null)
            {
                // PostFilter: can evicting lower-priority pods make room?
                var ineligible = nodes == 0 ? null : Preemption.Ineligible(info, _nodeInfos);
                if (nodes > 0 && ineligible is null)
                {
                    var curable = reasons.Where(r => FitError.PreemptionMightHelp(r.Value)).Select(r => _nodeInfos[r.Key]);
                    preemption = Preemption.Find(info, curable, Fits, _budgets.List());
                }

                failure = FitError.Message(nodes, reasons, preemption is not null ? string.Empty : ineligible);
            }
            else
            {
                Place(key, chosen, info); // assumed until the binding's watch event confirms it
                _unschedulable.Remove(key);
                SchedulerMetrics.Scheduled.Inc();
            }

            SchedulerMetrics.Waiting.Set(_unschedulable.Count);

            info.ClearState();
        }

        if (chosen is null)
        {
            SchedulerMetrics.Unschedulable.Inc();
            if (preemption is not null)
            {
                await PreemptAsync(pod, preemption, cancellationToken);
            }

            await ReportUnschedulableAsync(pod, key, failure!, cancellationToken);
            return;
        }

        await _binds.WaitAsync(cancellationToken);
        _ = BindAsync(pod, key, chosen, cancellationToken);
    }

    /// <summary>
    /// Filters nodes from a rotating start and stops once enough feasible ones are found (kube's
    /// percentageOfNodesToScore: all below 100 nodes, else 50 % shrinking by 1 % per 125 nodes, at
    /// least 5 % and 100 nodes), then returns the best-scored. Called under the lock.
    /// </summary>
    private string? Decide(PodInfo pod, out Dictionary<string, string> reasons, out int nodes)
    {
        reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        nodes = _nodeOrder.Count;
        if (nodes == 0)
        {
            return null;
        }

        foreach (var plugin in _preFilters)
        {
            plugin.PreFilter(pod, _nodeOrder);
        }

        var wanted = nodes < 100 ? nodes : Math.Max(100, nodes * Math.Max(5, 50 - (nodes / 125)) / 100);
        var feasible = new List<NodeInfo>(Math.Min(wanted, nodes));
        var start = _nextStart % nodes;
        var looked = 0;
        for (; looked < nodes && feasible.Count < wanted; looked++)
        {
            var node = _nodeOrder[(start + looked) % nodes];
            string? reason = null;
            foreach (var filter in _filters)
            {
                if ((reason = filter.Filter(pod, node)) is not null)
                {
                    break;
                }
            }

            if (reason is null)
            {
                feasible.Add(node);
            }
            else
            {
                reasons[node.Name] = reason;
            }
        }

        _nextStart = (start + looked) % nodes;
        if (feasible.Count == 0)
        {
            // Every node was looked at (nothing feasible stops the loop early).
            return null;
        }

        foreach (var scorer in _scorers)
        {
            scorer.PreScore(pod, feasible, _nodeOrder);
        }

        // The best score wins; among equals one is picked at random (kube's selectHost), so equal nodes share the work.
        NodeInfo? best = null;
        var bestScore = long.MinValue;
        var ties = 0;
        foreach (var node in feasible)
        {
            long score = 0;
            foreach (var scorer in _scorers)
            {
                score += scorer.Score(pod, node) * scorer.Weight;
            }

            if (score > bestScore)
            {
                (best, bestScore, ties) = (node, score, 1);
            }
            else if (score == bestScore && Random.Shared.Next(++ties) == 0)
            {
                best = node;
            }
        }

        return best!.Name;
    }

    /// <summary>Whether the pod passes every filter on the node (the attempt's pre-filter state in place).</summary>
    private bool Fits(PodInfo pod, NodeInfo node)
    {
        foreach (var filter in _filters)
        {
            if (filter.Filter(pod, node) is not null)
            {
                return false;
            }
        }

        return true;
    }

    private async Task BindAsync(V1Pod pod, string key, string node, CancellationToken cancellationToken)
    {
        try
        {
            await _volumes.PreBindAsync(_client, pod, node, cancellationToken);
            var binding = new V1Binding
            {
                Metadata = new V1ObjectMeta { Name = pod.Metadata.Name, NamespaceProperty = pod.Metadata.NamespaceProperty, Uid = pod.Metadata.Uid },
                Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = node },
            };
            await _client.CoreV1.CreateNamespacedPodBindingAsync(binding, pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            Interlocked.Increment(ref _scheduled);
            _queue.Forget(key);
            _events.Record(pod, EventRecorder.Normal, "Scheduled", $"Successfully assigned {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} to {node}", action: "Binding");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // a failed bind is forgotten and retried later; the loop goes on
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (_gate)
            {
                Unplace(key);
            }

            var gone = e is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound or HttpStatusCode.Conflict };
            if (!gone)
            {
                LogBindFailed(_logger, key, node, e.Message);
                _queue.AddRateLimited(key);
            }
        }
        finally
        {
            _binds.Release();
        }
    }
}
