using k8s;
using Lotse.ApiServer.Security;
using Lotse.Client.Informers;
using Lotse.Controllers;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

/// <summary>
/// The controllers and the scheduler of <c>lotse server</c>: clients of the API like any other —
/// over HTTPS, with their own identity — sharing one set of informers (one list and watch per
/// kind). Kept apart from <see cref="LotseServer"/> so a server with both disabled never loads the
/// client library.
/// </summary>
internal sealed class ControlLoops : IAsyncDisposable
{
    private readonly Kubernetes _client;
    private readonly ControllerManager? _controllers;
    private readonly Scheduler.Scheduler? _scheduler;
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    private ControlLoops(Kubernetes client, ControllerManager? controllers, Scheduler.Scheduler? scheduler)
    {
        _client = client;
        _controllers = controllers;
        _scheduler = scheduler;
    }

    public string Description => (_controllers, _scheduler) switch
    {
        (null, _) => "Scheduler running (controllers disabled)",
        (_, null) => "Controllers running (scheduler disabled)",
        _ => "Controllers and scheduler running",
    };

    /// <summary>Starts the loops and returns once their informers have their first lists (or after 30 s).</summary>
    public static async Task<ControlLoops> StartAsync(string server, ClusterPki pki, ServerOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var client = LoopbackClient.Create(server, pki, "system:kube-controller-manager", []);
        var informers = new InformerFactory(client, loggerFactory);
        var loops = new ControlLoops(
            client,
            options.DisableControllerManager ? null : new ControllerManager(informers, pki.ServerCaPem, loggerFactory, clusterCidr: options.ClusterCidr, nodeLifecycle: new() { GracePeriod = options.NodeMonitorGracePeriod }),
            options.DisableScheduler ? null : new Scheduler.Scheduler(informers, loggerFactory));
        var tasks = new List<Task> { informers.RunAsync(loops._stop.Token) };
        if (loops._controllers is { } manager)
        {
            tasks.Add(manager.RunAsync(loops._stop.Token));
        }

        if (loops._scheduler is { } s)
        {
            tasks.Add(s.RunAsync(loops._stop.Token));
        }

        loops._running = Task.WhenAll(tasks);
        await Task.WhenAll(informers.All.Select(i => i.Synced)).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return loops;
    }

    /// <summary>Stops the loops and closes their connections (Kestrel's graceful stop waits for open ones).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _controllers?.Dispose();
        _scheduler?.Dispose();
        _client.Dispose();
        _stop.Dispose();
    }
}
