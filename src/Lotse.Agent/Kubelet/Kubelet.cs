using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Grpc.Core;
using k8s;
using k8s.Models;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet.StaticPods;
using Lotse.Agent.Kubelet.Volumes;
using Lotse.Agent.Node;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Queues;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// The node agent's kubelet over CRI: registers the Node and keeps its status and Lease fresh,
/// writes the pod network's CNI configuration once the node has its pod range, and reconciles every
/// pod bound to the node with the runtime — one pod at a time per key, woken by the pod watch and
/// by a relist of the runtime's containers (the kubelet's PLEG).
/// </summary>
public sealed partial class Kubelet : IDisposable
{
    private readonly IKubernetes _client;
    private readonly CriClient _cri;
    private readonly KubeletOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Informer<V1Pod> _pods;
    private readonly WorkQueue _queue;
    private readonly EventRecorder _events;
    private readonly Prober _probes;
    private readonly ConcurrentDictionary<string, PodState> _states = new(StringComparer.Ordinal);
    private readonly DNSConfig _hostDns;
    private readonly VolumeManager _volumes;
    private Dictionary<string, ContainerState> _lastRelist = new(StringComparer.Ordinal);
    private string _runtimeVersion = "containerd://unknown";
    private string? _podCidr;
    private readonly NodePressure _pressure;
    private readonly StaticPodSource? _static;

    public Kubelet(IKubernetes client, CriClient cri, KubeletOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _client = client;
        _cri = cri;
        _options = options;
        _logger = loggerFactory.CreateLogger<Kubelet>();
        _time = time ?? TimeProvider.System;
        _queue = new WorkQueue(_time);
        _events = new EventRecorder(client, "kubelet", options.NodeName, _logger, _time);
        _probes = new Prober(cri, _events, _logger, key => _queue.Add(key));
        _hostDns = HostDns();
        _pressure = new NodePressure(options.EvictionHard, options.AgentDir, options.ImageFs ?? Path.Combine(options.AgentDir, "containerd"), _time);
        _volumes = new VolumeManager(client, options.AgentDir, options.NodeIp, options.ClusterDomain, loggerFactory.CreateLogger("Lotse.Agent.Kubelet.Volumes"), _time);
        _pods = new Informer<V1Pod>(ListWatches.Pods(client, $"spec.nodeName={options.NodeName}"), loggerFactory.CreateLogger("Lotse.Agent.Kubelet.Pods"), _time);
        _pods.AddHandler(InformerHandler.ForAll<V1Pod>(pod => _queue.Add(ObjectKey.Of(pod))));
        if (options.PodManifestPath is { } manifests)
        {
            _static = new StaticPodSource(client, manifests, options.NodeName, () => KnowsAllPods ? _pods.List() : null, _queue.Add, _logger, _time);
        }
    }

    /// <summary>Completes once the node is registered and the pod cache has its first list.</summary>
    public Task Started => _started.Task;

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var version = await _cri.Runtime.VersionAsync(new VersionRequest { Version = "v1" }, cancellationToken: cancellationToken);
        _runtimeVersion = $"{version.RuntimeName}://{version.RuntimeVersion}";
        using var stop = cancellationToken.Register(_queue.ShutDown);
        // Static pods run from the start, with or without an API server (the kubelet's file source);
        // pods from the API wait for the first list of the pod cache.
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)).ToList();
        workers.Add(RelistAsync(cancellationToken));
        if (_static is not null)
        {
            _static.Refresh();
            workers.Add(Task.Run(() => _static.RunAsync(cancellationToken), CancellationToken.None));
        }

        try
        {
            await RegisterAsync(cancellationToken);
            var pods = _pods.RunAsync(cancellationToken);
            await _pods.Synced.WaitAsync(cancellationToken);
            LogStarted(_logger, _options.NodeName, _runtimeVersion);
            _started.TrySetResult();
            var localPath = new LocalPathCleaner(_client, node => node == _options.NodeName, _logger, _time);
            workers.Add(Task.Run(() => localPath.RunAsync(cancellationToken), CancellationToken.None));
            await Task.WhenAll([pods, LeaseAsync(cancellationToken), NodeStatusAsync(cancellationToken), .. workers]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The pod to run under a namespace/name key: a static pod from the manifest folder, else the
    /// API's — but never a mirror pod, which only shows a static pod in the API.
    /// </summary>
    private V1Pod? Lookup(string key) =>
        _static?.Get(key) ?? (_pods.Get(key) is { } pod && !StaticPodManifest.IsMirror(pod) ? pod : null);

    /// <summary>Whether the kubelet knows every pod it should run: the API's once its pod cache has listed.</summary>
    private bool KnowsAllPods => _pods.Synced.IsCompleted;

    public void Dispose()
    {
        _probes.Dispose();
        _queue.Dispose();
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (await _queue.GetAsync(cancellationToken) is { } key)
        {
            try
            {
                var again = await SyncAsync(key, cancellationToken);
                _queue.Forget(key);
                if (again is { } delay)
                {
                    _queue.AddAfter(key, delay);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // one pod's failure (API or runtime away) is retried with back-off; it must not stop the agent
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogSyncFailed(_logger, key, e is RpcException rpc ? rpc.Status.Detail : e.Message);
                _queue.AddRateLimited(key);
            }
            finally
            {
                _queue.Done(key);
            }
        }
    }

    // ---- Node ----------------------------------------------------------------------------------

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kubernetes.io/hostname"] = _options.NodeName,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = Architecture,
            ["beta.kubernetes.io/os"] = "linux",
            ["beta.kubernetes.io/arch"] = Architecture,
        };
        if (_options.ControlPlane)
        {
            labels["node-role.kubernetes.io/control-plane"] = "true";
        }

        foreach (var (key, value) in _options.Labels)
        {
            labels[key] = value;
        }

        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = _options.NodeName, Labels = labels },
            Spec = new V1NodeSpec { Taints = _options.Taints.Count > 0 ? [.. _options.Taints] : null },
        };
        while (true)
        {
            try
            {
                await NodeApi.RegisterAsync(_client, node, cancellationToken);
                await PostNodeStatusAsync(cancellationToken);
                LogRegistered(_logger, _options.NodeName);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRegisterFailed(_logger, _options.NodeName, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), _time, cancellationToken);
            }
        }
    }

    private async Task NodeStatusAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            // Every second until the node is first Ready (its pod range, then the pod network, arrive
            // moments after registration), then at the lease interval.
            await Task.Delay(_everReady ? _options.LeaseInterval : TimeSpan.FromSeconds(1), _time, cancellationToken);
            try
            {
                await PostNodeStatusAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogNodeStatusFailed(_logger, e.Message);
            }
        }
    }

    private string? _lastNodeStatus;
    private bool _everReady;
    private DateTimeOffset _lastNodeStatusAt;

    /// <summary>Writes capacity, conditions, addresses and node info — when something changed, or once a minute.</summary>
    private async Task PostNodeStatusAsync(CancellationToken cancellationToken)
    {
        var node = await _client.CoreV1.ReadNodeAsync(_options.NodeName, cancellationToken: cancellationToken);
        if (node.Spec?.PodCIDR is { Length: > 0 } cidr && cidr != _podCidr)
        {
            if (CniConfig.Write(_options.CniConfDir, cidr, Path.Combine(_options.AgentDir, "cni", "ipam")))
            {
                LogPodCidr(_logger, cidr);
            }

            _podCidr = cidr;
        }

        var (ready, reason, message) = await RuntimeReadyAsync(cancellationToken);
        _everReady |= ready;
        var now = _time.GetUtcNow();
        var heartbeat = NodeApi.Time(now);
        var old = node.Status?.Conditions ?? [];
        JsonObject Condition(string type, string status, string why, string text)
        {
            var previous = old.FirstOrDefault(c => c.Type == type);
            var transition = previous?.Status == status && previous.LastTransitionTime is { } at ? NodeApi.Time(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))) : heartbeat;
            return NodeApi.Condition(type, status, why, text, heartbeat, transition);
        }

        var capacity = Capacity();
        var status = new JsonObject
        {
            ["capacity"] = capacity,
            ["allocatable"] = capacity.DeepClone(),
            ["conditions"] = NodeApi.Conditions(Condition, ready, reason, message, Pressure()),
            ["addresses"] = new JsonArray(
                new JsonObject { ["type"] = "InternalIP", ["address"] = _options.NodeIp },
                new JsonObject { ["type"] = "Hostname", ["address"] = _options.NodeName }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = _options.Port } },
            ["nodeInfo"] = NodeInfo(),
            ["images"] = await ImagesAsync(cancellationToken),
        };
        var comparable = status.DeepClone().AsObject();
        foreach (var condition in comparable["conditions"]!.AsArray())
        {
            condition!.AsObject().Remove("lastHeartbeatTime");
        }

        var text = comparable.ToJsonString();
        if (text == _lastNodeStatus && now - _lastNodeStatusAt < TimeSpan.FromMinutes(1))
        {
            return;
        }

        await NodeApi.PatchStatusAsync(_client, _options.NodeName, status, cancellationToken);
        _lastNodeStatus = text;
        _lastNodeStatusAt = now;
    }

    /// <summary>The pressure conditions from the eviction signals; none when they cannot be measured (logged).</summary>
    private (bool Memory, bool Disk, bool Pid) Pressure()
    {
        try
        {
            return _pressure.Evaluate();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or DllNotFoundException or EntryPointNotFoundException)
        {
            LogPressureUnknown(_logger, e.Message);
            return default;
        }
    }

    private async Task<(bool Ready, string Reason, string Message)> RuntimeReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            var status = await _cri.Runtime.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken);
            var conditions = status.Status?.Conditions ?? [];
            var notReady = conditions.Where(c => !c.Status).ToList();
            if (notReady.Count == 0)
            {
                return (true, "KubeletReady", "kubelet is posting ready status");
            }

            var network = notReady.FirstOrDefault(c => c.Type == "NetworkReady");
            var text = network is not null
                ? $"container runtime network not ready: NetworkReady=false reason:{network.Reason} message:{network.Message}"
                : $"container runtime not ready: {string.Join(", ", notReady.Select(c => $"{c.Type}=false reason:{c.Reason} message:{c.Message}"))}";
            return (false, "KubeletNotReady", text);
        }
        catch (RpcException e)
        {
            return (false, "KubeletNotReady", $"container runtime is down: {e.Status.Detail}");
        }
    }

    private async Task LeaseAsync(CancellationToken cancellationToken)
    {
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await NodeApi.RenewLeaseAsync(_client, _options.NodeName, first, _time.GetUtcNow(), cancellationToken);
                first = false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLeaseFailed(_logger, e.Message);
            }

            await Task.Delay(_options.LeaseInterval, _time, cancellationToken);
        }
    }

    private JsonObject Capacity()
    {
        var memoryKi = 0L;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                memoryKi = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                break;
            }
        }

        Directory.CreateDirectory(_options.AgentDir);
        var storage = new DriveInfo(_options.AgentDir).TotalSize / 1024;
        return new JsonObject
        {
            ["cpu"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["memory"] = $"{memoryKi}Ki",
            ["pods"] = _options.MaxPods.ToString(CultureInfo.InvariantCulture),
            ["ephemeral-storage"] = $"{storage}Ki",
        };
    }

    private JsonObject NodeInfo()
    {
        static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : string.Empty;
        var osImage = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "Linux"
            : "Linux";
        return new JsonObject
        {
            ["machineID"] = Read("/etc/machine-id"),
            ["systemUUID"] = Read("/sys/class/dmi/id/product_uuid"),
            ["bootID"] = Read("/proc/sys/kernel/random/boot_id"),
            ["kernelVersion"] = Read("/proc/sys/kernel/osrelease"),
            ["osImage"] = osImage,
            ["containerRuntimeVersion"] = _runtimeVersion,
            ["kubeletVersion"] = _options.KubeletVersion,
            ["kubeProxyVersion"] = string.Empty,
            ["operatingSystem"] = "linux",
            ["architecture"] = Architecture,
        };
    }

    private static string Architecture => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        _ => "amd64",
    };

    private static DNSConfig HostDns()
    {
        var dns = new DNSConfig();
        if (!File.Exists("/etc/resolv.conf"))
        {
            return dns;
        }

        foreach (var line in File.ReadLines("/etc/resolv.conf"))
        {
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || fields[0].StartsWith('#'))
            {
                continue;
            }

            switch (fields[0])
            {
                case "nameserver" when !fields[1].StartsWith("127.", StringComparison.Ordinal):
                    dns.Servers.Add(fields[1]);
                    break;
                case "search":
                    dns.Searches.AddRange(fields.Skip(1));
                    break;
            }
        }

        return dns;
    }

    // ---- Relist (PLEG) ------------------------------------------------------------------------

    /// <summary>Lists the runtime's containers each period and wakes the pods whose containers changed state.</summary>
    private async Task RelistAsync(CancellationToken cancellationToken)
    {
        var sweep = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(_options.RelistInterval, _time, cancellationToken);
            try
            {
                var containers = await _cri.Runtime.ListContainersAsync(new ListContainersRequest(), deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
                var current = new Dictionary<string, ContainerState>(StringComparer.Ordinal);
                foreach (var container in containers.Containers)
                {
                    current[container.Id] = container.State;
                    if (!_lastRelist.TryGetValue(container.Id, out var before) || before != container.State)
                    {
                        Wake(container.Labels);
                    }
                }

                _lastRelist = current;
                if (++sweep % 10 == 0)
                {
                    await SweepOrphansAsync(cancellationToken);
                }
            }
            catch (RpcException e)
            {
                LogRelistFailed(_logger, e.Status.Detail);
            }
        }
    }

    private void Wake(IDictionary<string, string> labels)
    {
        if (labels.TryGetValue(RuntimeConfigs.PodNamespaceLabel, out var ns) && labels.TryGetValue(RuntimeConfigs.PodNameLabel, out var name))
        {
            _queue.Add(ObjectKey.Of(ns, name));
        }
    }

    /// <summary>Sandboxes of pods that no longer exist (deleted while the agent was away) are stopped and removed.</summary>
    private async Task SweepOrphansAsync(CancellationToken cancellationToken)
    {
        if (!KnowsAllPods)
        {
            return; // before the first list every API pod would look orphaned
        }

        var sandboxes = await _cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), cancellationToken: cancellationToken);
        var known = _pods.List().Concat(_static?.List() ?? []).Select(p => p.Metadata.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (var uid in sandboxes.Items.Where(s => s.Labels.ContainsKey(RuntimeConfigs.PodUidLabel)).Select(s => s.Labels[RuntimeConfigs.PodUidLabel]).Distinct())
        {
            if (!known.Contains(uid))
            {
                LogOrphan(_logger, uid);
                await RemovePodAsync(uid, TimeSpan.FromSeconds(2), cancellationToken);
            }
        }

        // Volume directories of pods that went while the agent was away.
        var states = _states.Values.Select(s => s.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (var uid in _volumes.PodUids().Where(u => !known.Contains(u) && !states.Contains(u)).ToList())
        {
            _volumes.TearDown(uid);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node} registered")]
    private static partial void LogRegistered(ILogger logger, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "registering node {Node} failed, retrying: {Error}")]
    private static partial void LogRegisterFailed(ILogger logger, string node, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet on {Node} started ({Runtime})")]
    private static partial void LogStarted(ILogger logger, string node, string runtime);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod network: {Cidr}")]
    private static partial void LogPodCidr(ILogger logger, string cidr);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node status update failed: {Error}")]
    private static partial void LogNodeStatusFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "lease renewal failed: {Error}")]
    private static partial void LogLeaseFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "runtime relist failed: {Error}")]
    private static partial void LogRelistFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "syncing pod {Key} failed, retrying: {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string key, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "removing the sandboxes of pod uid {Uid}: the pod no longer exists")]
    private static partial void LogOrphan(ILogger logger, string uid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node pressure could not be measured: {Error}")]
    private static partial void LogPressureUnknown(ILogger logger, string error);
}
