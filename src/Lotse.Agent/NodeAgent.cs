using k8s;
using Lotse.Agent.Containerd;
using Lotse.Agent.Cri;
using Lotse.Agent.Images;
using Lotse.Agent.Kubelet;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent;

/// <summary>What a node agent runs with, beyond its kubelet's options.</summary>
public sealed record NodeAgentOptions
{
    public required KubeletOptions Kubelet { get; init; }

    /// <summary>An existing CRI socket to use instead of starting containerd.</summary>
    public string? ContainerRuntimeEndpoint { get; init; }

    /// <summary>The kubelet's HTTPS port (logs); none without it.</summary>
    public KubeletServing? Serving { get; init; }

    /// <summary>Image archives imported at start (K3s' air-gap images directory).</summary>
    public string ImagesDir => Path.Combine(Kubelet.AgentDir, "images");
}

/// <summary>
/// One node's agent: containerd (started and watched, or an existing CRI endpoint), the pause
/// image, air-gapped image archives, and the kubelet — as a client of the API server with the
/// node's own identity.
/// </summary>
public sealed partial class NodeAgent : IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly NodeAgentOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private ContainerdProcess? _containerd;
    private CriClient? _cri;
    private Kubelet.Kubelet? _kubelet;
    private KubeletServer? _server;
    private Task _running = Task.CompletedTask;

    public NodeAgent(IKubernetes client, NodeAgentOptions options, ILoggerFactory loggerFactory)
    {
        _client = client;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<NodeAgent>();
    }

    /// <summary>The CRI socket the agent uses.</summary>
    public string RuntimeEndpoint => _options.ContainerRuntimeEndpoint ?? _containerd?.SocketPath ?? string.Empty;

    /// <summary>Starts the runtime and the kubelet; returns once the node is registered and its pods are known.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var registries = _options.Kubelet.Registries;
        foreach (var warning in registries.Warnings)
        {
            LogRegistriesWarning(_logger, registries.Source ?? "registries.yaml", warning);
        }

        var socket = _options.ContainerRuntimeEndpoint?.Replace("unix://", string.Empty, StringComparison.Ordinal);
        if (socket is not null && !registries.IsEmpty)
        {
            // Only the rewrites are the agent's own; mirrors, TLS and credentials live in the runtime's configuration.
            LogRegistriesNotApplied(_logger, registries.Source ?? "registries.yaml", socket);
        }

        if (socket is null)
        {
            var config = new ContainerdConfig(Path.Combine(_options.Kubelet.AgentDir, "containerd"), _options.Kubelet.PauseImage, _options.Kubelet.CniConfDir) { Registries = registries };
            _containerd = new ContainerdProcess(config, _loggerFactory);
            await _containerd.StartAsync(cancellationToken);
            socket = _containerd.SocketPath;
        }

        _cri = new CriClient(socket);
        await PauseImage.EnsureAsync(_cri, socket, _options.Kubelet.PauseImage, cancellationToken);
        if (Directory.Exists(_options.ImagesDir))
        {
            foreach (var archive in Directory.EnumerateFiles(_options.ImagesDir, "*.tar").Order(StringComparer.Ordinal))
            {
                await ImageImporter.ImportAsync(socket, archive, null, cancellationToken);
                LogImported(_logger, Path.GetFileName(archive));
            }
        }

        var kubeletOptions = _options.Serving is { } serving ? _options.Kubelet with { Port = serving.Port } : _options.Kubelet;
        _kubelet = new Kubelet.Kubelet(_client, _cri, kubeletOptions, _loggerFactory);
        if (_options.Serving is not null)
        {
            _server = await KubeletServer.StartAsync(_options.Serving, _kubelet, logging => logging.AddFilter(_ => false), cancellationToken);
        }

        _running = Task.Run(() => _kubelet.RunAsync(_stop.Token), CancellationToken.None);
        await Task.WhenAny(_kubelet.Started, _running).WaitAsync(cancellationToken);
        if (_running.IsFaulted)
        {
            await _running;
        }
    }

    /// <summary>Stops the kubelet and containerd; running containers keep running and are adopted by the next agent.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _kubelet?.Dispose();
        _cri?.Dispose();
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync();
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File}: {Warning}")]
    private static partial void LogRegistriesWarning(ILogger logger, string file, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File}: with --container-runtime-endpoint {Socket} the agent applies only its rewrites; configure mirrors, TLS and credentials in that runtime")]
    private static partial void LogRegistriesNotApplied(ILogger logger, string file, string socket);

    [LoggerMessage(Level = LogLevel.Information, Message = "imported image archive {Archive}")]
    private static partial void LogImported(ILogger logger, string archive);
}
