using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Agent.Node;
using Lotse.Client.Informers;
using Lotse.Client.Queues;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Hollow;

/// <summary>
/// N simulated nodes in one process (kubemark's and KWOK's idea), through the real API like real
/// kubelets: each registers its Node (Ready, with capacity), renews its Lease, and reports the pods
/// bound to it Running and Ready a few milliseconds after binding — with fake addresses, nothing
/// runs — and confirms their deletion. One pod watch serves all nodes. A test instrument only.
/// </summary>
public sealed partial class HollowNodeSet : IDisposable
{
    public const string HollowLabel = "lotse.io/hollow";
    private readonly IKubernetes _client;
    private readonly HollowNodeOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly Informer<V1Pod> _pods;
    private readonly WorkQueue _queue;
    private readonly Dictionary<string, int> _podNumbers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writes = new(32);
    private readonly Lock _gate = new();

    public HollowNodeSet(IKubernetes client, HollowNodeOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _client = client;
        _options = options;
        _logger = loggerFactory.CreateLogger<HollowNodeSet>();
        _time = time ?? TimeProvider.System;
        _queue = new WorkQueue(_time);
        for (var i = 0; i < options.Count; i++)
        {
            _index[NodeName(i)] = i;
        }

        _pods = new Informer<V1Pod>(ListWatches.Pods(client, "spec.nodeName!="), loggerFactory.CreateLogger("Lotse.Agent.Hollow.Pods"), _time);
        _pods.AddHandler(InformerHandler.ForAll<V1Pod>(OnPod));
    }

    public IEnumerable<string> NodeNames => _index.Keys;

    public string NodeName(int index) => $"{_options.NamePrefix}{index}";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_index.Keys.Select(name => WriteAsync(() => RegisterAsync(name, cancellationToken), cancellationToken)));
        LogRegistered(_logger, _options.Count);
        using var stop = cancellationToken.Register(_queue.ShutDown);
        var pods = _pods.RunAsync(cancellationToken);
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)).ToList();

        // Local-path volumes provisioned on hollow nodes are let go when deleted (there is no directory).
        var volumes = new Kubelet.Volumes.LocalPathCleaner(_client, _index.ContainsKey, _logger, _time, removeDirectories: false);
        workers.Add(Task.Run(() => volumes.RunAsync(cancellationToken), CancellationToken.None));
        try
        {
            await Task.WhenAll([LeasesAsync(cancellationToken), pods, .. workers]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _queue.Dispose();
        _writes.Dispose();
    }

    /// <summary>Creates the node, or brings an existing one back to Ready with our capacity.</summary>
    private async Task RegisterAsync(string name, CancellationToken cancellationToken)
    {
        var index = _index[name];
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = new Dictionary<string, string>
                {
                    ["kubernetes.io/hostname"] = name,
                    ["kubernetes.io/os"] = "linux",
                    ["kubernetes.io/arch"] = "amd64",
                    [HollowLabel] = "true",
                },
            },
        };
        await NodeApi.RegisterAsync(_client, node, cancellationToken);

        var now = Timestamp();
        var resources = new JsonObject { ["cpu"] = _options.Cpu, ["memory"] = _options.Memory, ["pods"] = _options.Pods.ToString(CultureInfo.InvariantCulture), ["ephemeral-storage"] = "100Gi" };
        JsonObject Condition(string type, string status, string reason, string message) => NodeApi.Condition(type, status, reason, message, now);
        var status = new JsonObject
        {
            ["capacity"] = resources,
            ["allocatable"] = resources.DeepClone(),
            ["conditions"] = NodeApi.Conditions(Condition, ready: true),
            ["addresses"] = new JsonArray(
                new JsonObject { ["type"] = "InternalIP", ["address"] = HollowPodStatus.NodeIp(index) },
                new JsonObject { ["type"] = "Hostname", ["address"] = name }),
            ["nodeInfo"] = new JsonObject
            {
                ["machineID"] = string.Empty,
                ["systemUUID"] = string.Empty,
                ["bootID"] = string.Empty,
                ["kernelVersion"] = "hollow",
                ["osImage"] = "Lotse hollow node",
                ["containerRuntimeVersion"] = "hollow://1.0",
                ["kubeletVersion"] = "v1.33.0-lotse-hollow",
                ["kubeProxyVersion"] = string.Empty,
                ["operatingSystem"] = "linux",
                ["architecture"] = "amd64",
            },
        };
        await NodeApi.PatchStatusAsync(_client, name, status, cancellationToken);
    }

    /// <summary>Renews every node's Lease once per interval, spread evenly over it.</summary>
    private async Task LeasesAsync(CancellationToken cancellationToken)
    {
        var names = _index.Keys.ToArray();
        var created = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            var round = _time.GetUtcNow();
            for (var i = 0; i < names.Length; i++)
            {
                var due = round + (_options.LeaseInterval * i / names.Length);
                var wait = due - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken);
                }

                var name = names[i];
                var first = created.Add(name);
                _ = WriteAsync(() => RenewAsync(name, first, cancellationToken), cancellationToken);
            }

            var rest = round + _options.LeaseInterval - _time.GetUtcNow();
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, _time, cancellationToken);
            }
        }
    }

    private Task RenewAsync(string name, bool first, CancellationToken cancellationToken) =>
        NodeApi.RenewLeaseAsync(_client, name, first, _time.GetUtcNow(), cancellationToken);

    private void OnPod(V1Pod pod)
    {
        if (pod.Spec?.NodeName is not { } node || !_index.ContainsKey(node))
        {
            return;
        }

        var key = ObjectKey.Of(pod);
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            _queue.Add(key);
        }
        else if (pod.Status?.Phase is null or "Pending")
        {
            _queue.AddAfter(key, _options.PodStartDelay);
        }
        else if (pod.Status.Phase == "Running" && HollowPodStatus.ExitCode(pod) is not null)
        {
            _queue.AddAfter(key, HollowPodStatus.RunTime(pod));
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (await _queue.GetAsync(cancellationToken) is { } key)
        {
            try
            {
                await HandleAsync(key, cancellationToken);
                _queue.Forget(key);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound)
            {
                // The pod went meanwhile.
            }
#pragma warning disable CA1031 // a pod that cannot be reported now is retried with back-off
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogPodFailed(_logger, key, e.Message);
                _queue.AddRateLimited(key);
            }
            finally
            {
                _queue.Done(key);
            }
        }
    }

    private async Task HandleAsync(string key, CancellationToken cancellationToken)
    {
        var pod = _pods.Get(key);
        if (pod?.Spec?.NodeName is not { } node || !_index.TryGetValue(node, out var nodeIndex))
        {
            return;
        }

        var (ns, name) = ObjectKey.Split(key);
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            // What the kubelet does once the containers stopped: the final delete, guarded by UID.
            await _client.CoreV1.DeleteNamespacedPodAsync(name, ns, new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
            lock (_gate)
            {
                _podNumbers.Remove(pod.Metadata.Uid);
            }

            return;
        }

        var exitCode = HollowPodStatus.ExitCode(pod);
        var running = pod.Status?.Phase == "Running";
        if (running && exitCode is null || pod.Status?.Phase is "Succeeded" or "Failed")
        {
            return;
        }

        var podIp = running ? pod.Status!.PodIP : HollowPodStatus.PodIp(nodeIndex, NextPodNumber(node, pod.Metadata.Uid));
        var patch = HollowPodStatus.Build(pod, HollowPodStatus.NodeIp(nodeIndex), podIp ?? HollowPodStatus.PodIp(nodeIndex, 0), _time.GetUtcNow(), running ? exitCode : null);
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns, cancellationToken: cancellationToken);
    }

    private int NextPodNumber(string node, string uid)
    {
        lock (_gate)
        {
            if (!_podNumbers.TryGetValue(uid, out var number))
            {
                var key = $"#{node}";
                number = _podNumbers.GetValueOrDefault(key);
                _podNumbers[key] = number + 1;
                _podNumbers[uid] = number;
            }

            return number;
        }
    }

    private async Task WriteAsync(Func<Task> write, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await write();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // a lease or registration that fails is tried again next round
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogWriteFailed(_logger, e.Message);
        }
        finally
        {
            _writes.Release();
        }
    }

    private string Timestamp() => NodeApi.Time(_time.GetUtcNow());

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Count} hollow nodes registered")]
    private static partial void LogRegistered(ILogger logger, int count);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "hollow pod {Pod}: {Error}; retrying")]
    private static partial void LogPodFailed(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "hollow node write failed: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string error);
}
