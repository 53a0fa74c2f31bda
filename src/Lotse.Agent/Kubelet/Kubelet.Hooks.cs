using Grpc.Core;
using k8s.Models;
using Lotse.Agent.Cri.V1;
using Lotse.Client.Events;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// Container lifecycle hooks (kube's lifecycle handlers): postStart runs right after the container
/// started — if it fails, the container is killed (FailedPostStartHook) and restarts as its policy
/// says; preStop runs before the container is stopped, within the grace period, which what is left of
/// it bounds (at least 2 s) for the stop. Handlers are exec, httpGet, tcpSocket and sleep; the
/// events carry no output, as kube keeps secrets out of them.
/// </summary>
public sealed partial class Kubelet
{
    private static readonly TimeSpan MinimumStopGrace = TimeSpan.FromSeconds(2);

    /// <summary>Runs a handler; null when it succeeded, else why not.</summary>
    private async Task<string?> RunHookAsync(V1LifecycleHandler handler, V1Container container, string containerId, string podIp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (handler.Sleep is { } sleep)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(Math.Max(0, sleep.Seconds), timeout.TotalSeconds)), _time, cancellationToken);
            return null;
        }

        var probe = new V1Probe { Exec = handler.Exec, HttpGet = handler.HttpGet, TcpSocket = handler.TcpSocket, TimeoutSeconds = (int)Math.Max(1, timeout.TotalSeconds) };
        if (probe.Exec is null && probe.HttpGet is null && probe.TcpSocket is null)
        {
            return "the handler has no action";
        }

        try
        {
            return await _probes.ProbeAsync(probe, container, containerId, podIp, cancellationToken);
        }
        catch (RpcException e)
        {
            return e.Status.Detail;
        }
    }

    /// <summary>postStart: false when the hook failed and the container was killed for it.</summary>
    private async Task<bool> PostStartAsync(V1Pod pod, V1Container container, string containerId, string podIp, CancellationToken cancellationToken)
    {
        if (container.Lifecycle?.PostStart is not { } hook)
        {
            return true;
        }

        var grace = TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30);
        if (await RunHookAsync(hook, container, containerId, podIp, grace, cancellationToken) is not { } failure)
        {
            return true;
        }

        LogHookFailed(_logger, "postStart", pod.Metadata.NamespaceProperty, pod.Metadata.Name, container.Name, failure);
        _events.Record(pod, EventRecorder.Warning, "FailedPostStartHook", "PostStartHook failed", fieldPath: FieldPath(pod, container));
        await _cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = containerId, Timeout = (long)grace.TotalSeconds }, cancellationToken: cancellationToken);
        return false;
    }

    /// <summary>preStop, then what is left of the grace period (at least 2 s) for the stop itself.</summary>
    private async Task<TimeSpan> PreStopAsync(V1Pod pod, V1Container container, string containerId, string podIp, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (container.Lifecycle?.PreStop is not { } hook || grace <= TimeSpan.Zero)
        {
            return grace;
        }

        var started = _time.GetTimestamp();
        if (await RunHookAsync(hook, container, containerId, podIp, grace, cancellationToken) is { } failure)
        {
            LogHookFailed(_logger, "preStop", pod.Metadata.NamespaceProperty, pod.Metadata.Name, container.Name, failure);
            _events.Record(pod, EventRecorder.Warning, "FailedPreStopHook", "PreStopHook failed", fieldPath: FieldPath(pod, container));
        }

        var left = grace - _time.GetElapsedTime(started);
        return left < MinimumStopGrace ? MinimumStopGrace : left;
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "{Hook} hook of {Namespace}/{Name} container {Container} failed: {Failure}")]
    private static partial void LogHookFailed(ILogger logger, string hook, string @namespace, string name, string container, string failure);
}
