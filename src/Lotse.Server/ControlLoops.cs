using System.Security.Cryptography;
using System.Text;
using k8s;
using Lotse.ApiServer.Security;
using Lotse.Client.Informers;
using Lotse.Client.LeaderElection;
using Lotse.Controllers;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

/// <summary>
/// The controllers and the scheduler of <c>lotse server</c>: clients of the API like any other —
/// over HTTPS, with their own identity — sharing one set of informers (one list and watch per
/// kind). With leader election (the default) they run only while this server holds the
/// <c>kube-controller-manager</c> and <c>kube-scheduler</c> Leases in kube-system, so several servers
/// of one cluster run one set of loops; a server that loses the leases stops its loops (caches and
/// queues with them) and stands by again. Kept apart from <see cref="LotseServer"/> so a server with
/// both disabled never loads the client library.
/// </summary>
internal sealed partial class ControlLoops : IAsyncDisposable
{
    private readonly Kubernetes _client;
    private readonly ClusterPki _pki;
    private readonly ServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly LeaderElector? _elector;
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;
    private volatile bool _leading;

    private ControlLoops(Kubernetes client, ClusterPki pki, ServerOptions options, ILoggerFactory loggerFactory)
    {
        _client = client;
        _pki = pki;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ControlLoops>();
        if (!options.DisableLeaderElection)
        {
            string[] leases = [.. options.DisableControllerManager ? [] : (string[])["kube-controller-manager"], .. options.DisableScheduler ? [] : (string[])["kube-scheduler"]];
            _elector = new LeaderElector(client, "kube-system", leases, Identity(options.DataDir), loggerFactory.CreateLogger<LeaderElector>());
        }
    }

    public string Description
    {
        get
        {
            var what = (_options.DisableControllerManager, _options.DisableScheduler) switch
            {
                (true, _) => "Scheduler",
                (_, true) => "Controllers",
                _ => "Controllers and scheduler",
            };
            return _elector is null || _leading ? $"{what} running" : $"{what} standing by (the leader is {_elector.Leader ?? "unknown"})";
        }
    }

    /// <summary>
    /// Starts the loops and returns once their informers have their first lists (or after 30 s) — or,
    /// when another server leads, at once, standing by.
    /// </summary>
    public static async Task<ControlLoops> StartAsync(string server, ClusterPki pki, ServerOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var client = LoopbackClient.Create(server, pki, "system:kube-controller-manager", [], "kube-controller-manager");
        var loops = new ControlLoops(client, pki, options, loggerFactory);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loops._running = loops.RunAsync(ready, loops._stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return loops;
    }

    /// <summary>A stable identity per server (host name and data dir), so a restarted server takes its own lease back at once.</summary>
    private static string Identity(string dataDir)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir))))[..8];
        return $"{Environment.MachineName}_{hash}";
    }

    private async Task RunAsync(TaskCompletionSource ready, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (_elector is not null && !await _elector.TryAcquireAsync(cancellationToken))
                {
                    ready.TrySetResult(); // standing by does not hold the server's start-up
                    await _elector.AcquireAsync(cancellationToken);
                }

                await RunTermAsync(ready, cancellationToken);
                if (_elector is null)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One term of leadership: fresh informers and loops, stopped when the leases are lost or the server stops.</summary>
    private async Task RunTermAsync(TaskCompletionSource ready, CancellationToken cancellationToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informers = new InformerFactory(_client, _loggerFactory);
        using var controllers = _options.DisableControllerManager
            ? null
            : new ControllerManager(informers, _pki.ServerCaPem, _loggerFactory, clusterCidr: _options.ClusterCidr, nodeLifecycle: new() { GracePeriod = _options.NodeMonitorGracePeriod }, localPath: new() { StoragePath = _options.LocalStoragePath });
        using var scheduler = _options.DisableScheduler ? null : new Scheduler.Scheduler(informers, _loggerFactory);
        var tasks = new List<Task> { informers.RunAsync(term.Token) };
        if (controllers is not null)
        {
            tasks.Add(controllers.RunAsync(term.Token));
        }

        if (scheduler is not null)
        {
            tasks.Add(scheduler.RunAsync(term.Token));
        }

        var loops = Task.WhenAll(tasks);
        _leading = true;
        _ = Task.WhenAll(informers.All.Select(i => i.Synced)).ContinueWith(_ => ready.TrySetResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            if (_elector is null)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            else
            {
                await _elector.HoldAsync(cancellationToken);
                LogStandingBy(_logger);
            }
        }
        finally
        {
            _leading = false;
            await term.CancelAsync();
            await loops.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Stops the loops, hands the leases on, and closes their connections (Kestrel's graceful stop waits for open ones).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_elector is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _elector.ReleaseAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _client.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "leadership lost: controllers and scheduler stopped, standing by")]
    private static partial void LogStandingBy(ILogger logger);
}
