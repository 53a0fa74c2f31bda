using System.Diagnostics;
using System.Net;
using System.Text;
using Grpc.Core;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet.StaticPods;
using Lotse.Agent.Kubelet.Volumes;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

public sealed partial class Kubelet
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan VolumeResync = TimeSpan.FromSeconds(10);

    /// <summary>What the agent remembers of a pod between syncs.</summary>
    private sealed class PodState(string uid)
    {
        public string Uid { get; } = uid;

        /// <summary>Why a container is waiting, when the agent knows better than the runtime (pulls, back-off, config errors).</summary>
        public Dictionary<string, (string Reason, string Message)> Waiting { get; } = new(StringComparer.Ordinal);

        /// <summary>Restart and pull back-off per container: the current delay and when it was last applied.</summary>
        public Dictionary<string, (TimeSpan Delay, DateTimeOffset Since)> Backoff { get; } = new(StringComparer.Ordinal);

        public string? LastStatus { get; set; }

        /// <summary>The pod's volumes as last set up (null until they first were).</summary>
        public IReadOnlyDictionary<string, PodVolume>? Volumes { get; set; }

        /// <summary>The FailedMount retry delay (2 s doubling to 2 min, as the kubelet's volume manager).</summary>
        public TimeSpan MountBackoff { get; set; }

        /// <summary>Why the agent failed the pod itself (its active deadline passed), if it did.</summary>
        public (string Reason, string Message)? Failure { get; set; }
    }

    /// <summary>How long the pod may still run under <c>activeDeadlineSeconds</c>, counted from its start on this node; null without a deadline.</summary>
    private TimeSpan? ActiveDeadline(V1Pod pod) =>
        pod.Spec.ActiveDeadlineSeconds is { } seconds && pod.Status?.StartTime is { } started
            ? new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)).AddSeconds(seconds) - _time.GetUtcNow()
            : null;

    /// <summary>Brings one pod's runtime state to its spec and reports its status; returns when to look again, if the pod needs it.</summary>
    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var pod = Lookup(key);
        if (pod is null && !KnowsAllPods)
        {
            return TimeSpan.FromSeconds(1); // not listed yet: gone or not, the first list tells
        }

        if (pod is null)
        {
            if (_states.TryRemove(key, out var gone))
            {
                _probes.Forget(gone.Uid);
                await RemovePodAsync(gone.Uid, TimeSpan.FromSeconds(2), cancellationToken);
            }

            return null;
        }

        if (_states.TryGetValue(key, out var replaced) && replaced.Uid != pod.Metadata.Uid)
        {
            // Another pod under the same name (a static pod whose file changed): the old one goes first.
            _probes.Forget(replaced.Uid);
            await RemovePodAsync(replaced.Uid, TimeSpan.FromSeconds(2), cancellationToken);
        }

        var state = _states.AddOrUpdate(key, _ => new PodState(pod.Metadata.Uid), (_, s) => s.Uid == pod.Metadata.Uid ? s : new PodState(pod.Metadata.Uid));
        var runtime = await LoadAsync(pod.Metadata.Uid, cancellationToken);
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            _probes.Forget(pod.Metadata.Uid);
            await TerminateAsync(pod, runtime, cancellationToken);
            return null;
        }

        if (pod.Status?.Phase is "Succeeded" or "Failed")
        {
            _probes.Forget(pod.Metadata.Uid);
            // Finished: nothing runs again, but the runtime may still refine how it ended (an OOM
            // kill is reported a moment after the exit), so the status keeps following it.
            await StopAsync(pod, runtime, TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30), cancellationToken);
            await WriteStatusAsync(pod, runtime, state, cancellationToken);
            return null;
        }

        TimeSpan? again = null;
        void LookAgainIn(TimeSpan delay) => again = again is { } current && current < delay ? current : delay;

        if (ActiveDeadline(pod) is { } remaining)
        {
            if (remaining <= TimeSpan.Zero)
            {
                // kube's activeDeadlineHandler: the pod fails, its containers are stopped.
                state.Failure = ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline");
                _events.Record(pod, EventRecorder.Warning, "DeadlineExceeded", state.Failure.Value.Message);
                _probes.Forget(pod.Metadata.Uid);
                await StopAsync(pod, runtime, TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30), cancellationToken);
                await WriteStatusAsync(pod, await LoadAsync(pod.Metadata.Uid, cancellationToken), state, cancellationToken);
                return null;
            }

            LookAgainIn(remaining);
        }

        if (_volumes.EmptyDirOverLimit(pod) is { } over)
        {
            // kube's eviction manager on local storage: the pod fails at once, its containers killed.
            var message = $"Usage of EmptyDir volume \"{over.Volume}\" exceeds the limit \"{over.Limit}\". ";
            state.Failure = (PodStatusBuilder.Evicted, message);
            _events.Record(pod, EventRecorder.Warning, PodStatusBuilder.Evicted, message);
            _probes.Forget(pod.Metadata.Uid);
            await StopAsync(pod, runtime, TimeSpan.Zero, cancellationToken);
            await WriteStatusAsync(pod, await LoadAsync(pod.Metadata.Uid, cancellationToken), state, cancellationToken);
            return null;
        }

        if (!await SetUpVolumesAsync(pod, runtime, state, cancellationToken))
        {
            await WriteStatusAsync(pod, runtime, state, cancellationToken);
            state.MountBackoff = state.MountBackoff == TimeSpan.Zero ? TimeSpan.FromSeconds(2) : TimeSpan.FromTicks(Math.Min(state.MountBackoff.Ticks * 2, TimeSpan.FromMinutes(2).Ticks));
            return state.MountBackoff;
        }

        if (VolumeManager.NeedsResync(pod))
        {
            // configMap, secret, downwardAPI and projected contents follow their sources.
            LookAgainIn(VolumeResync);
        }

        if (runtime.Sandbox is not { State: PodSandboxState.SandboxReady })
        {
            var ranBefore = runtime.Sandbox is not null && runtime.Containers.Count > 0;
            if (ranBefore && pod.Spec.RestartPolicy == "Never")
            {
                // The sandbox died under containers that may not restart: the pod is done.
                await StopAsync(pod, runtime, TimeSpan.Zero, cancellationToken);
                await WriteStatusAsync(pod, await LoadAsync(pod.Metadata.Uid, cancellationToken), state, cancellationToken);
                return null;
            }

            if (pod.Spec.HostNetwork != true && await NetworkNotReadyAsync(cancellationToken) is { } notReady)
            {
                // As the kubelet: no sandbox until the pod network is up (the CNI config follows the node's pod range).
                var message = $"network is not ready: {notReady}";
                _events.Record(pod, EventRecorder.Warning, "NetworkNotReady", message);
                foreach (var container in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
                {
                    state.Waiting[container.Name] = ("ContainerCreating", message);
                }

                await WriteStatusAsync(pod, runtime, state, cancellationToken);
                return TimeSpan.FromSeconds(1);
            }

            if (!await CreateSandboxAsync(pod, runtime, state, cancellationToken))
            {
                await WriteStatusAsync(pod, runtime, state, cancellationToken);
                return Backoff(state, "(sandbox)");
            }

            runtime = await LoadAsync(pod.Metadata.Uid, cancellationToken);
        }

        var sandbox = runtime.Sandbox!;
        var sandboxConfig = RuntimeConfigs.Sandbox(pod, sandbox.Metadata.Attempt, _options.PodLogDir, _options.ClusterDomain, _hostDns);
        var changed = false;
        var initialized = true;
        foreach (var container in pod.Spec.InitContainers ?? [])
        {
            var (latest, _) = runtime.Instances(container.Name);
            if (latest is { State: ContainerState.ContainerExited, ExitCode: 0 })
            {
                continue;
            }

            initialized = false;
            if (latest is null)
            {
                changed |= await TryStartAsync(pod, container, 0, sandbox, sandboxConfig, state, LookAgainIn, cancellationToken);
            }
            else if (latest.State == ContainerState.ContainerExited && pod.Spec.RestartPolicy != "Never")
            {
                changed |= await RestartAsync(pod, container, latest, sandbox, sandboxConfig, state, LookAgainIn, cancellationToken);
            }

            break;
        }

        if (initialized)
        {
            foreach (var container in pod.Spec.Containers)
            {
                var (latest, _) = runtime.Instances(container.Name);
                if (latest is null)
                {
                    changed |= await TryStartAsync(pod, container, 0, sandbox, sandboxConfig, state, LookAgainIn, cancellationToken);
                }
                else if (latest.State == ContainerState.ContainerExited && pod.Spec.RestartPolicy switch { "Never" => false, "OnFailure" => latest.ExitCode != 0, _ => true })
                {
                    changed |= await RestartAsync(pod, container, latest, sandbox, sandboxConfig, state, LookAgainIn, cancellationToken);
                }
                else if (latest.State == ContainerState.ContainerRunning && state.Backoff.TryGetValue(container.Name, out var backoff)
                    && _time.GetUtcNow() - PodStatusBuilder.FromNanos(latest.StartedAt) > 2 * MaxBackoff && backoff.Delay > InitialBackoff)
                {
                    // Ran long enough: the next crash starts over at 10 s (the kubelet's reset).
                    state.Backoff.Remove(container.Name);
                }
            }
        }

        if (changed)
        {
            runtime = await LoadAsync(pod.Metadata.Uid, cancellationToken);
        }

        _probes.Sync(pod, key, runtime);
        await WriteStatusAsync(pod, runtime, state, cancellationToken);
        return again;
    }

    /// <summary>
    /// Sets up (or refreshes) the pod's volumes; false, with a FailedMount event, while they cannot be
    /// and the pod has not started on them yet (a running pod keeps its last good contents).
    /// </summary>
    private async Task<bool> SetUpVolumesAsync(V1Pod pod, PodRuntime runtime, PodState state, CancellationToken cancellationToken)
    {
        try
        {
            state.Volumes = await _volumes.SetUpAsync(pod, runtime.Sandbox?.Network?.Ip ?? string.Empty, cancellationToken);
            state.MountBackoff = TimeSpan.Zero;
            return true;
        }
        catch (VolumeSetupException e)
        {
            _events.Record(pod, EventRecorder.Warning, "FailedMount", e.Message);
            return state.Volumes is not null && runtime.Sandbox is { State: PodSandboxState.SandboxReady };
        }
    }

    /// <summary>Why the runtime's pod network is not ready, or null when it is.</summary>
    private async Task<string?> NetworkNotReadyAsync(CancellationToken cancellationToken)
    {
        var status = await _cri.Runtime.StatusAsync(new StatusRequest(), cancellationToken: cancellationToken);
        return status.Status?.Conditions.FirstOrDefault(c => c.Type == "NetworkReady") is { Status: false } network
            ? $"container runtime network not ready: NetworkReady=false reason:{network.Reason} message:{network.Message}"
            : null;
    }

    private async Task<bool> CreateSandboxAsync(V1Pod pod, PodRuntime runtime, PodState state, CancellationToken cancellationToken)
    {
        // A dead sandbox takes its containers with it: clear them away, then start over.
        if (runtime.Sandbox is not null || runtime.Containers.Count > 0)
        {
            await RemovePodAsync(pod.Metadata.Uid, TimeSpan.FromSeconds(2), cancellationToken, keepCgroup: true);
        }

        var attempt = runtime.Sandbox is null ? 0u : runtime.Sandbox.Metadata.Attempt + 1;
        var config = RuntimeConfigs.Sandbox(pod, attempt, _options.PodLogDir, _options.ClusterDomain, _hostDns);
        Directory.CreateDirectory(config.LogDirectory);
        try
        {
            await _cri.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, cancellationToken: cancellationToken);
            state.Backoff.Remove("(sandbox)");
            state.Waiting.Clear();
            return true;
        }
        catch (RpcException e)
        {
            var message = $"Failed to create pod sandbox: {e.Status.Detail}";
            _events.Record(pod, EventRecorder.Warning, "FailedCreatePodSandBox", message);
            foreach (var container in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
            {
                state.Waiting[container.Name] = ("ContainerCreating", message);
            }

            return false;
        }
    }

    private async Task<bool> RestartAsync(V1Pod pod, V1Container container, ContainerStatus latest, PodSandboxStatus sandbox, PodSandboxConfig sandboxConfig, PodState state, Action<TimeSpan> lookAgainIn, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var finished = PodStatusBuilder.FromNanos(latest.FinishedAt);
        if (state.Backoff.TryGetValue(container.Name, out var backoff) && now - finished < backoff.Delay)
        {
            var message = $"back-off {Seconds(backoff.Delay)} restarting failed container={container.Name} pod={pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})";
            if (!state.Waiting.TryGetValue(container.Name, out var waiting) || waiting.Reason != "CrashLoopBackOff")
            {
                _events.Record(pod, EventRecorder.Warning, "BackOff", $"Back-off restarting failed container {container.Name} in pod {pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})", fieldPath: FieldPath(pod, container));
            }

            state.Waiting[container.Name] = ("CrashLoopBackOff", message);
            lookAgainIn(backoff.Delay - (now - finished));
            return false;
        }

        Backoff(state, container.Name);
        var started = await StartContainerAsync(pod, container, latest.Metadata.Attempt + 1, sandbox, sandboxConfig, state, cancellationToken);
        await PruneAsync(pod.Metadata.Uid, container.Name, cancellationToken);
        return started;
    }

    /// <summary>
    /// Starts a container that has no instance yet, unless its last attempt failed (image pull,
    /// configuration, create) less than its back-off ago — 10 s doubling to 5 min, as the kubelet
    /// retries — in which case a failed pull shows as ImagePullBackOff.
    /// </summary>
    private async Task<bool> TryStartAsync(V1Pod pod, V1Container container, uint attempt, PodSandboxStatus sandbox, PodSandboxConfig sandboxConfig, PodState state, Action<TimeSpan> lookAgainIn, CancellationToken cancellationToken)
    {
        var key = "(start)" + container.Name;
        var now = _time.GetUtcNow();
        var (delay, since) = state.Backoff.GetValueOrDefault(key);
        if (delay > TimeSpan.Zero && now - since < delay)
        {
            if (state.Waiting.TryGetValue(container.Name, out var waiting) && waiting.Reason == "ErrImagePull")
            {
                state.Waiting[container.Name] = ("ImagePullBackOff", $"Back-off pulling image \"{container.Image}\"");
                _events.Record(pod, EventRecorder.Normal, "BackOff", $"Back-off pulling image \"{container.Image}\"", fieldPath: FieldPath(pod, container));
            }

            lookAgainIn(since + delay - now);
            return false;
        }

        if (await StartContainerAsync(pod, container, attempt, sandbox, sandboxConfig, state, cancellationToken))
        {
            state.Backoff.Remove(key);
            return true;
        }

        lookAgainIn(Backoff(state, key));
        return false;
    }

    /// <summary>Pulls the image if due, resolves the environment, creates and starts one container; false (with a waiting reason) when it could not.</summary>
    private async Task<bool> StartContainerAsync(V1Pod pod, V1Container container, uint attempt, PodSandboxStatus sandbox, PodSandboxConfig sandboxConfig, PodState state, CancellationToken cancellationToken)
    {
        var fieldPath = FieldPath(pod, container);
        if (await EnsureImageAsync(pod, container, state, fieldPath, cancellationToken) is not { } imageId)
        {
            return false;
        }

        var missing = new List<string>();
        var env = await EnvironmentAsync(pod, container, sandbox.Network?.Ip ?? string.Empty, missing, cancellationToken);
        if (missing.Count > 0)
        {
            state.Waiting[container.Name] = ("CreateContainerConfigError", missing[0]);
            _events.Record(pod, EventRecorder.Warning, "Failed", $"Error: {missing[0]}", fieldPath: fieldPath);
            return false;
        }

        List<Mount> mounts;
        try
        {
            mounts = _volumes.Mounts(pod, container, state.Volumes ?? new Dictionary<string, PodVolume>(), sandbox.Network?.Ip ?? string.Empty);
        }
        catch (Exception e) when (e is VolumeSetupException or IOException or UnauthorizedAccessException)
        {
            state.Waiting[container.Name] = ("CreateContainerConfigError", e.Message);
            _events.Record(pod, EventRecorder.Warning, "Failed", $"Error: {e.Message}", fieldPath: fieldPath);
            return false;
        }

        if (TerminationMessageMount(pod, container, attempt, mounts) is { } message)
        {
            mounts.Add(message);
        }

        var config = RuntimeConfigs.Container(pod, container, attempt, env, imageId, mounts);
        Directory.CreateDirectory(Path.Combine(sandboxConfig.LogDirectory, container.Name));
        string id;
        try
        {
            id = (await _cri.Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = sandbox.Id, Config = config, SandboxConfig = sandboxConfig }, cancellationToken: cancellationToken)).ContainerId;
        }
        catch (RpcException e)
        {
            state.Waiting[container.Name] = ("CreateContainerError", e.Status.Detail);
            _events.Record(pod, EventRecorder.Warning, "Failed", $"Error: {e.Status.Detail}", fieldPath: fieldPath);
            return false;
        }

        _events.Record(pod, EventRecorder.Normal, "Created", $"Created container {container.Name}", fieldPath: fieldPath);
        state.Waiting.Remove(container.Name);
        try
        {
            await _cri.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }, cancellationToken: cancellationToken);
        }
        catch (RpcException e)
        {
            // The runtime records the failed start on the container (exit 128, StartError): the status shows it.
            _events.Record(pod, EventRecorder.Warning, "Failed", $"Error: {e.Status.Detail}", fieldPath: fieldPath);
            return true;
        }

        _events.Record(pod, EventRecorder.Normal, "Started", $"Started container {container.Name}", fieldPath: fieldPath);
        await PostStartAsync(pod, container, id, sandbox.Network?.Ip ?? string.Empty, cancellationToken);
        return true;
    }

    private async Task<List<KeyValuePair<string, string>>> EnvironmentAsync(V1Pod pod, V1Container container, string podIp, List<string> missing, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var configMaps = new Dictionary<string, IReadOnlyDictionary<string, string>?>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>?>(StringComparer.Ordinal);
        foreach (var name in (container.EnvFrom ?? []).Select(s => s.ConfigMapRef?.Name).Concat((container.Env ?? []).Select(e => e.ValueFrom?.ConfigMapKeyRef?.Name)).OfType<string>().Distinct())
        {
            configMaps[name] = await GetOrNullAsync(() => _client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken), cm => (IReadOnlyDictionary<string, string>)(cm.Data ?? new Dictionary<string, string>()));
        }

        foreach (var name in (container.EnvFrom ?? []).Select(s => s.SecretRef?.Name).Concat((container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef?.Name)).OfType<string>().Distinct())
        {
            secrets[name] = await GetOrNullAsync(() => _client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken), s => (IReadOnlyDictionary<string, string>)(s.Data ?? new Dictionary<string, byte[]>()).ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(d.Value), StringComparer.Ordinal));
        }

        return RuntimeConfigs.Environment(
            pod, container, _options.NodeIp, podIp,
            (_, name, key) => configMaps.GetValueOrDefault(name)?.GetValueOrDefault(key),
            (_, name, key) => secrets.GetValueOrDefault(name)?.GetValueOrDefault(key),
            name => configMaps.GetValueOrDefault(name),
            name => secrets.GetValueOrDefault(name),
            missing);
    }

    private static async Task<TResult?> GetOrNullAsync<T, TResult>(Func<Task<T>> get, Func<T, TResult> select)
        where TResult : class
    {
        try
        {
            return select(await get());
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Graceful deletion: stop the containers within the grace period, report, remove everything, then confirm the delete.</summary>
    private async Task TerminateAsync(V1Pod pod, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(pod.Metadata.DeletionGracePeriodSeconds ?? pod.Spec.TerminationGracePeriodSeconds ?? 30);
        await StopAsync(pod, runtime, grace, cancellationToken);
        await RemovePodAsync(pod.Metadata.Uid, grace, cancellationToken);
        try
        {
            await _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions
            {
                GracePeriodSeconds = 0,
                Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid },
            }, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone already, or a new pod of the same name.
        }

        _states.TryRemove(ObjectKey.Of(pod), out _);
    }

    /// <summary>Stops running containers (SIGTERM, SIGKILL after <paramref name="grace"/>) and the sandbox; they stay for their logs and status.</summary>
    private async Task StopAsync(V1Pod pod, PodRuntime runtime, TimeSpan grace, CancellationToken cancellationToken)
    {
        var running = runtime.Containers.Where(c => c.State is ContainerState.ContainerRunning or ContainerState.ContainerCreated).ToList();
        await Task.WhenAll(running.Select(async c =>
        {
            var stopGrace = grace;
            if (c.State == ContainerState.ContainerRunning && pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(x => x.Name == c.Metadata.Name) is { } container)
            {
                _events.Record(pod, EventRecorder.Normal, "Killing", $"Stopping container {container.Name}", fieldPath: FieldPath(pod, container));
                stopGrace = await PreStopAsync(pod, container, c.Id, runtime.PodIp, grace, cancellationToken);
            }

            await _cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = c.Id, Timeout = (long)Math.Ceiling(stopGrace.TotalSeconds) }, cancellationToken: cancellationToken);
        }));
        if (runtime.Sandbox is { State: PodSandboxState.SandboxReady } sandbox)
        {
            await _cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Removes every container and sandbox of a pod uid, its cgroup and logs.</summary>
    private async Task RemovePodAsync(string uid, TimeSpan grace, CancellationToken cancellationToken, bool keepCgroup = false)
    {
        var selector = new Dictionary<string, string> { [RuntimeConfigs.PodUidLabel] = uid };
        var containers = await _cri.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { LabelSelector = { selector } } }, cancellationToken: cancellationToken);
        await Task.WhenAll(containers.Containers.Select(async c =>
        {
            if (c.State is ContainerState.ContainerRunning or ContainerState.ContainerCreated)
            {
                await _cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = c.Id, Timeout = (long)grace.TotalSeconds }, cancellationToken: cancellationToken);
            }

            await _cri.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = c.Id }, cancellationToken: cancellationToken);
        }));
        var sandboxes = await _cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { LabelSelector = { selector } } }, cancellationToken: cancellationToken);
        foreach (var sandbox in sandboxes.Items)
        {
            await _cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken: cancellationToken);
            await _cri.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken: cancellationToken);
        }

        if (keepCgroup)
        {
            return;
        }

        PodCgroups.Remove(uid);
        _volumes.TearDown(uid);
        if (sandboxes.Items.FirstOrDefault() is { } any && Directory.Exists(_options.PodLogDir))
        {
            var logs = Path.Combine(_options.PodLogDir, $"{any.Metadata.Namespace}_{any.Metadata.Name}_{uid}");
            if (Directory.Exists(logs))
            {
                Directory.Delete(logs, recursive: true);
            }
        }
    }

    /// <summary>Removes exited instances of a container beyond the newest two (the current one and the last termination).</summary>
    private async Task PruneAsync(string uid, string name, CancellationToken cancellationToken)
    {
        var runtime = await LoadAsync(uid, cancellationToken);
        foreach (var old in runtime.Containers.Where(c => c.Metadata.Name == name && c.State == ContainerState.ContainerExited).OrderByDescending(c => c.Metadata.Attempt).Skip(2))
        {
            await _cri.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = old.Id }, cancellationToken: cancellationToken);
        }
    }

    private async Task<PodRuntime> LoadAsync(string uid, CancellationToken cancellationToken)
    {
        var selector = new Dictionary<string, string> { [RuntimeConfigs.PodUidLabel] = uid };
        var sandboxes = await _cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { LabelSelector = { selector } } }, cancellationToken: cancellationToken);
        PodSandboxStatus? sandbox = null;
        if (sandboxes.Items.OrderByDescending(s => s.Metadata.Attempt).ThenByDescending(s => s.CreatedAt).FirstOrDefault() is { } newest)
        {
            sandbox = (await _cri.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = newest.Id }, cancellationToken: cancellationToken)).Status;
        }

        var list = await _cri.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { LabelSelector = { selector } } }, cancellationToken: cancellationToken);
        var statuses = new List<ContainerStatus>(list.Containers.Count);
        foreach (var container in list.Containers)
        {
            try
            {
                statuses.Add((await _cri.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = container.Id }, cancellationToken: cancellationToken)).Status);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // Removed between the list and the status.
            }
        }

        return new PodRuntime(sandbox, statuses);
    }

    private async Task WriteStatusAsync(V1Pod pod, PodRuntime runtime, PodState state, CancellationToken cancellationToken)
    {
        var probes = new Dictionary<string, ProbeResult>(StringComparer.Ordinal);
        foreach (var container in pod.Spec.Containers)
        {
            if (runtime.Instances(container.Name).Latest is { State: ContainerState.ContainerRunning } running)
            {
                probes[running.Id] = _probes.Result(running.Id, container);
            }
        }

        runtime = runtime with { Probes = probes };
        await AddTerminationMessagesAsync(pod, runtime, cancellationToken);
        var status = PodStatusBuilder.Build(pod, runtime, _options.NodeIp, _time.GetUtcNow(), state.Waiting, state.Failure);
        var text = status.ToJsonString();
        if (text == state.LastStatus)
        {
            return;
        }

        var patch = new System.Text.Json.Nodes.JsonObject { ["status"] = status }.ToJsonString();
        try
        {
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            state.LastStatus = text;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile: the watch brings the deletion. For a static pod: no mirror pod yet;
            // its creation wakes the pod again.
        }
        catch (Exception e) when (StaticPodManifest.IsMirror(pod) && e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A static pod runs without the API server; its mirror pod gets the status once it is back.
        }
    }

    /// <summary>Raises the back-off under <paramref name="key"/> (10 s doubling to 5 min) and returns it.</summary>
    private TimeSpan Backoff(PodState state, string key)
    {
        var (delay, _) = state.Backoff.GetValueOrDefault(key);
        delay = delay == TimeSpan.Zero ? InitialBackoff : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
        state.Backoff[key] = (delay, _time.GetUtcNow());
        return delay;
    }

    /// <summary>The log file of a pod's container (its newest instance, or the one before with <paramref name="previous"/>), or why there is none.</summary>
    internal async Task<(string? Path, string? ContainerId, int Status, string? Error)> FindContainerLogAsync(string ns, string name, string container, bool previous, CancellationToken cancellationToken)
    {
        if (Lookup(ObjectKey.Of(ns, name)) is not { } pod)
        {
            return (null, null, 404, $"pod \"{name}\" in namespace \"{ns}\" is not on node {_options.NodeName}");
        }

        var runtime = await LoadAsync(pod.Metadata.Uid, cancellationToken);
        var (latest, before) = runtime.Instances(container);
        var instance = previous ? before : latest;
        if (instance is null)
        {
            return previous
                ? (null, null, 400, $"previous terminated container \"{container}\" in pod \"{name}\" not found")
                : (null, null, 400, $"container \"{container}\" in pod \"{name}\" is waiting to start: {(state(container) ?? "ContainerCreating")}");
        }

        var path = instance.LogPath;
        if (!Path.IsPathRooted(path) && runtime.Sandbox is not null)
        {
            path = Path.Combine(RuntimeConfigs.LogDirectory(_options.PodLogDir, pod), path);
        }

        return File.Exists(path) ? (path, instance.Id, 200, null) : (null, null, 404, $"the log of container \"{container}\" in pod \"{name}\" is gone");

        string? state(string c) => _states.TryGetValue(ObjectKey.Of(pod), out var s) && s.Waiting.TryGetValue(c, out var w) ? w.Reason : null;
    }

    internal async Task<bool> IsRunningAsync(string containerId, CancellationToken cancellationToken)
    {
        try
        {
            var status = await _cri.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId }, cancellationToken: cancellationToken);
            return status.Status.State is ContainerState.ContainerRunning or ContainerState.ContainerCreated;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }

    private static string FieldPath(V1Pod pod, V1Container container) =>
        (pod.Spec.InitContainers ?? []).Any(c => c.Name == container.Name) ? $"spec.initContainers{{{container.Name}}}" : $"spec.containers{{{container.Name}}}";

    private static string Seconds(TimeSpan delay) => delay.TotalMinutes >= 1 && delay.Seconds == 0 ? $"{(int)delay.TotalMinutes}m0s" : delay.TotalMinutes >= 1 ? $"{(int)delay.TotalMinutes}m{delay.Seconds}s" : $"{(int)delay.TotalSeconds}s";

    private static string? ImageTag(string image)
    {
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return "digest";
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? image[(colon + 1)..] : null;
    }
}
