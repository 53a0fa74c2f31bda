using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.PodGc;

/// <summary>
/// Kubernetes' pod garbage collector, every 20 s: finished pods beyond the threshold (12,500) go
/// oldest first; pods bound to a node that has been gone for the 40 s quarantine (confirmed by a live
/// read) are marked Failed with the DisruptionTarget condition DeletionByPodGC and force-deleted;
/// terminating pods that were never scheduled are force-deleted (no kubelet will confirm them).
/// </summary>
public sealed partial class PodGcController : Controller
{
    private const string Key = "pods";

    private readonly IKubernetes _client;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Node> _nodes;
    private readonly PodGcOptions _options;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _missingSince = new(StringComparer.Ordinal);

    public PodGcController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, PodGcOptions? options = null)
        : base("pod-garbage-collector", loggerFactory.CreateLogger<PodGcController>(), time, workers: 1)
    {
        _client = informers.Client;
        _pods = informers.Pods();
        _nodes = informers.Nodes();
        _options = options ?? new PodGcOptions();
        Queue.Add(Key);
    }

    protected override IEnumerable<IInformer> Informers => [_pods, _nodes];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var pods = _pods.List();
        await CollectTerminatedAsync(pods, cancellationToken);
        await CollectOrphanedAsync(pods, cancellationToken);
        foreach (var pod in pods.Where(p => p.Metadata.DeletionTimestamp is not null && string.IsNullOrEmpty(p.Spec?.NodeName)))
        {
            LogDeleting(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, "terminating and never scheduled");
            await ForceDeleteAsync(pod, cancellationToken);
        }

        return Reconciled.After(_options.CheckPeriod);
    }

    /// <summary>kube's gcTerminated: above the threshold, the oldest finished pods go.</summary>
    private async Task CollectTerminatedAsync(IReadOnlyList<V1Pod> pods, CancellationToken cancellationToken)
    {
        var finished = pods.Where(p => p.Status?.Phase is "Succeeded" or "Failed" && p.Metadata.DeletionTimestamp is null).ToList();
        var excess = finished.Count - _options.TerminatedPodThreshold;
        if (_options.TerminatedPodThreshold <= 0 || excess <= 0)
        {
            return;
        }

        foreach (var pod in finished.OrderBy(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal).Take(excess))
        {
            LogDeleting(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, $"more than {_options.TerminatedPodThreshold} finished pods");
            await ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { GracePeriodSeconds = 0 }, cancellationToken: cancellationToken));
        }
    }

    /// <summary>kube's gcOrphaned: a node missing from the cache for the quarantine and from a live read has lost its pods.</summary>
    private async Task CollectOrphanedAsync(IReadOnlyList<V1Pod> pods, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var missing = pods.Select(p => p.Spec?.NodeName).OfType<string>().Where(n => n.Length > 0 && _nodes.Get(n) is null).ToHashSet(StringComparer.Ordinal);
        foreach (var node in _missingSince.Keys.Where(n => !missing.Contains(n)).ToList())
        {
            _missingSince.TryRemove(node, out _);
        }

        foreach (var node in missing)
        {
            var since = _missingSince.GetOrAdd(node, now);
            if (now - since < _options.Quarantine || await ApiCalls.ReadOrNullAsync(_client.CoreV1.ReadNodeAsync(node, cancellationToken: cancellationToken)) is not null)
            {
                continue;
            }

            foreach (var pod in pods.Where(p => p.Spec?.NodeName == node))
            {
                LogDeleting(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, $"its node {node} no longer exists");
                // kube's markFailedAndDeletePodWithCondition: a pod not yet finished is Failed, with the reason it goes.
                await DisruptionTarget.MarkAsync(_client, pod, "DeletionByPodGC", "PodGC: node no longer exists", now, failed: true, cancellationToken);
                await ForceDeleteAsync(pod, cancellationToken);
            }

            _missingSince.TryRemove(node, out _);
        }
    }

    private Task ForceDeleteAsync(V1Pod pod, CancellationToken cancellationToken) =>
        ApiCalls.IgnoreNotFoundAsync(_client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken));

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "deleting pod {Namespace}/{Name}: {Reason}")]
    private static partial void LogDeleting(ILogger logger, string @namespace, string name, string reason);
}
