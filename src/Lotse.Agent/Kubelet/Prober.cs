using System.Collections.Concurrent;
using System.Net.Sockets;
using Grpc.Core;
using k8s.Models;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;
using Lotse.Client.Events;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

/// <summary>What the probes of one running container say so far.</summary>
internal sealed record ProbeResult(bool Ready, bool Started);

/// <summary>
/// The kubelet's probes: one worker per running container and probe kind (startup, liveness,
/// readiness), each waiting initialDelaySeconds, then probing every periodSeconds with
/// timeoutSeconds — exec through CRI ExecSync, httpGet (2xx/3xx succeed), tcpSocket — and
/// flipping its result after successThreshold successes or failureThreshold failures. Readiness
/// gates the container's ready flag; until a startup probe succeeds the other two wait; a failed
/// liveness or startup probe stops the container so the restart policy takes over.
/// </summary>
internal sealed partial class Prober : IDisposable
{
    private readonly CriClient _cri;
    private readonly EventRecorder _events;
    private readonly ILogger _logger;
    private readonly Action<string> _wake;
    private readonly ConcurrentDictionary<string, Worker> _workers = new(StringComparer.Ordinal);

    public Prober(CriClient cri, EventRecorder events, ILogger logger, Action<string> wake)
    {
        _cri = cri;
        _events = events;
        _logger = logger;
        _wake = wake;
    }

    /// <summary>The probe view of a container (no probes: ready and started once running).</summary>
    public ProbeResult Result(string containerId, V1Container container) =>
        _workers.TryGetValue(containerId, out var worker)
            ? new ProbeResult(worker.Ready, worker.Started)
            : new ProbeResult(container.ReadinessProbe is null, container.StartupProbe is null);

    /// <summary>Starts workers for the pod's running containers that have probes and stops those of containers that stopped.</summary>
    public void Sync(V1Pod pod, string podKey, PodRuntime runtime)
    {
        var running = runtime.Containers.Where(c => c.State == ContainerState.ContainerRunning).ToDictionary(c => c.Id, StringComparer.Ordinal);
        foreach (var (id, worker) in _workers)
        {
            if (worker.PodUid == pod.Metadata.Uid && !running.ContainsKey(id) && _workers.TryRemove(id, out var stopped))
            {
                stopped.Dispose();
            }
        }

        foreach (var container in pod.Spec.Containers)
        {
            if (container.ReadinessProbe is null && container.LivenessProbe is null && container.StartupProbe is null)
            {
                continue;
            }

            var (latest, _) = runtime.Instances(container.Name);
            if (latest is { State: ContainerState.ContainerRunning } && !_workers.ContainsKey(latest.Id))
            {
                var worker = new Worker(this, pod, podKey, container, latest.Id, runtime.PodIp, PodStatusBuilder.FromNanos(latest.StartedAt));
                if (_workers.TryAdd(latest.Id, worker))
                {
                    worker.Start();
                }
                else
                {
                    worker.Dispose();
                }
            }
        }
    }

    /// <summary>Stops every worker of a pod (deleted or finished).</summary>
    public void Forget(string podUid)
    {
        foreach (var (id, worker) in _workers)
        {
            if (worker.PodUid == podUid && _workers.TryRemove(id, out var stopped))
            {
                stopped.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers.Values)
        {
            worker.Dispose();
        }

        _workers.Clear();
    }

    /// <summary>Runs one probe once: null on success, else why it failed (kube's wording).</summary>
    internal async Task<string?> ProbeAsync(V1Probe probe, V1Container container, string containerId, string podIp, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        if (probe.Exec is { } exec)
        {
            try
            {
                var result = await _cri.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { exec.Command ?? [] }, Timeout = (long)timeout.TotalSeconds }, deadline: DateTime.UtcNow + timeout + TimeSpan.FromSeconds(5), cancellationToken: cancellationToken);
                if (result.ExitCode == 0)
                {
                    return null;
                }

                var output = (result.Stdout.ToStringUtf8() + result.Stderr.ToStringUtf8()).Trim();
                return output.Length > 0 ? output : $"command {string.Join(' ', exec.Command ?? [])} exited with {result.ExitCode}";
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
            {
                return $"command timed out after {timeout.TotalSeconds:0}s";
            }
        }

        if (probe.HttpGet is { } http)
        {
            var port = Port(http.Port, container);
            var host = string.IsNullOrEmpty(http.Host) ? podIp : http.Host;
            var scheme = http.Scheme?.ToUpperInvariant() == "HTTPS" ? "https" : "http";
            var path = string.IsNullOrEmpty(http.Path) ? "/" : http.Path.StartsWith('/') ? http.Path : "/" + http.Path;
            var url = $"{scheme}://{host}:{port}{path}";
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true, AllowAutoRedirect = false };
            using var client = new HttpClient(handler) { Timeout = timeout };
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.UserAgent.ParseAdd("kube-probe/1.33");
            foreach (var header in http.HttpHeaders ?? [])
            {
                request.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }

            try
            {
                using var response = await client.SendAsync(request, cancellationToken);
                var code = (int)response.StatusCode;
                return code is >= 200 and < 400 ? null : $"HTTP probe failed with statuscode: {code}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return $"Get \"{url}\": {(e is TaskCanceledException ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : e.Message)}";
            }
        }

        if (probe.TcpSocket is { } tcp)
        {
            var port = Port(tcp.Port, container);
            var host = string.IsNullOrEmpty(tcp.Host) ? podIp : tcp.Host;
            using var socket = new TcpClient();
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(host, port, connect.Token);
                return null;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return $"dial tcp {host}:{port}: {(e is OperationCanceledException ? "i/o timeout" : "connect: connection refused")}";
            }
        }

        if (probe.Grpc is { } grpc)
        {
            return await GrpcProbeAsync(string.IsNullOrEmpty(podIp) ? "127.0.0.1" : podIp, grpc.Port, grpc.Service ?? string.Empty, timeout, cancellationToken);
        }

        return null;
    }

    /// <summary>kube's gRPC probe: grpc.health.v1.Health/Check over plain HTTP/2; SERVING passes, anything else fails in the kubelet's words.</summary>
    internal static async Task<string?> GrpcProbeAsync(string host, int port, string service, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var address = $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://{address}", new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = timeout },
        });
        var client = new Health.Health.HealthClient(channel);
        try
        {
            var response = await client.CheckAsync(new Health.HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
            return response.Status == Health.HealthCheckResponse.Types.ServingStatus.Serving
                ? null
                : $"service unhealthy (responded with \"{StatusName(response.Status)}\")";
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return e.StatusCode switch
            {
                StatusCode.Unimplemented => $"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {e.Status.Detail}",
                StatusCode.DeadlineExceeded => $"timeout: health rpc did not complete within {timeout.TotalSeconds:0}s",
                StatusCode.Unavailable => $"error: failed to connect service at \"{address}\": {e.Status.Detail}",
                _ => $"error: health rpc probe failed: {e.Status.Detail}",
            };
        }
    }

    private static string StatusName(Health.HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        Health.HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        Health.HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    };

    private static int Port(IntOrString port, V1Container container)
    {
        var text = port.Value ?? string.Empty;
        return int.TryParse(text, out var number)
            ? number
            : container.Ports?.FirstOrDefault(p => p.Name == text)?.ContainerPort ?? 0;
    }

    private sealed class Worker : IDisposable
    {
        private readonly Prober _prober;
        private readonly V1Pod _pod;
        private readonly string _podKey;
        private readonly V1Container _container;
        private readonly string _containerId;
        private readonly string _podIp;
        private readonly DateTimeOffset _startedAt;
        private readonly CancellationTokenSource _stop = new();

        public Worker(Prober prober, V1Pod pod, string podKey, V1Container container, string containerId, string podIp, DateTimeOffset startedAt)
        {
            _prober = prober;
            _pod = pod;
            _podKey = podKey;
            _container = container;
            _containerId = containerId;
            _podIp = podIp;
            _startedAt = startedAt;
            Ready = container.ReadinessProbe is null;
            Started = container.StartupProbe is null;
        }

        public string PodUid => _pod.Metadata.Uid;

        public volatile bool Ready;

        public volatile bool Started;

        public void Start() => _ = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }

        private async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                if (_container.StartupProbe is { } startup)
                {
                    if (!await LoopAsync("Startup", startup, until: true, cancellationToken))
                    {
                        return;
                    }

                    Started = true;
                    _prober._wake(_podKey);
                }

                var loops = new List<Task>();
                if (_container.LivenessProbe is { } liveness)
                {
                    loops.Add(LoopAsync("Liveness", liveness, until: false, cancellationToken));
                }

                if (_container.ReadinessProbe is { } readiness)
                {
                    loops.Add(LoopAsync("Readiness", readiness, until: false, cancellationToken));
                }

                await Task.WhenAll(loops);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }

        /// <summary>Probes until cancelled (or, with <paramref name="until"/>, until the first success); false when a startup or liveness probe gave up on the container.</summary>
        private async Task<bool> LoopAsync(string kind, V1Probe probe, bool until, CancellationToken cancellationToken)
        {
            var initial = TimeSpan.FromSeconds(probe.InitialDelaySeconds ?? 0) - (DateTimeOffset.UtcNow - _startedAt);
            if (initial > TimeSpan.Zero)
            {
                await Task.Delay(initial, cancellationToken);
            }

            var period = TimeSpan.FromSeconds(Math.Max(1, probe.PeriodSeconds ?? 10));
            var successThreshold = Math.Max(1, probe.SuccessThreshold ?? 1);
            var failureThreshold = Math.Max(1, probe.FailureThreshold ?? 3);
            int successes = 0, failures = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                string? failure;
                try
                {
                    failure = await _prober.ProbeAsync(probe, _container, _containerId, _podIp, cancellationToken);
                }
                catch (RpcException e)
                {
                    failure = e.Status.Detail;
                }

                if (failure is null)
                {
                    failures = 0;
                    if (++successes >= successThreshold)
                    {
                        if (until)
                        {
                            return true;
                        }

                        if (kind == "Readiness" && !Ready)
                        {
                            Ready = true;
                            _prober._wake(_podKey);
                        }
                    }
                }
                else
                {
                    successes = 0;
                    failures++;
                    _prober._events.Record(_pod, EventRecorder.Warning, "Unhealthy", $"{kind} probe failed: {failure}", fieldPath: $"spec.containers{{{_container.Name}}}");
                    if (failures >= failureThreshold)
                    {
                        if (kind == "Readiness")
                        {
                            if (Ready)
                            {
                                Ready = false;
                                _prober._wake(_podKey);
                            }
                        }
                        else
                        {
                            var what = kind == "Liveness" ? "failed liveness probe" : "failed startup probe";
                            _prober._events.Record(_pod, EventRecorder.Normal, "Killing", $"Container {_container.Name} {what}, will be restarted", fieldPath: $"spec.containers{{{_container.Name}}}");
                            LogKilling(_prober._logger, _podKey, _container.Name, kind);
                            var grace = _pod.Spec.TerminationGracePeriodSeconds ?? 30;
                            await _prober._cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = _containerId, Timeout = grace }, cancellationToken: cancellationToken);
                            _prober._wake(_podKey);
                            return false;
                        }
                    }
                }

                await Task.Delay(period, cancellationToken);
            }

            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: container {Container} failed its {Kind} probe: restarting it")]
    private static partial void LogKilling(ILogger logger, string pod, string container, string kind);
}
