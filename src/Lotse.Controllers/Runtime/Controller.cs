using k8s;
using k8s.Autorest;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Client.Queues;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// The control-loop pattern (kubernetes' pkg/controller): informer handlers only enqueue keys;
/// workers take a key, <see cref="ReconcileAsync"/> it from the informer caches and write through
/// the API; success forgets the key's back-off, failure re-adds it rate-limited (5 ms doubling to
/// 1000 s, 10/s overall), so no loop can spin. A key is never worked on by two workers at once.
/// </summary>
public abstract partial class Controller : IDisposable
{
    private readonly ILogger _logger;
    private readonly ControllerMetrics _metrics;
    private long _reconciles;
    private long _errors;

    protected Controller(string name, ILogger logger, TimeProvider? time = null, int workers = 2)
    {
        Name = name;
        _logger = logger;
        Time = time ?? TimeProvider.System;
        Workers = workers;
        Queue = new WorkQueue(Time, name: name);
        _metrics = new ControllerMetrics(name);
    }

    public string Name { get; }

    public int Workers { get; }

    public WorkQueue Queue { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger => _logger;

    /// <summary>The informers whose caches must be filled before the first reconcile.</summary>
    protected abstract IEnumerable<IInformer> Informers { get; }

    /// <summary>Reconciles, as counted so far (for metrics and tests).</summary>
    public long Reconciles => Interlocked.Read(ref _reconciles);

    /// <summary>Reconciles that threw, as counted so far.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Brings the object behind <paramref name="key"/> to its desired state.</summary>
    protected abstract Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(Informers.Select(i => i.Synced)).WaitAsync(cancellationToken);
        LogStarted(_logger, Name, Workers);
        using var stop = cancellationToken.Register(Queue.ShutDown);
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)));
    }

    /// <summary>A recorder of this controller's Events, from <paramref name="component"/> as kube names it (<c>replicaset-controller</c>).</summary>
    protected EventRecorder EventsFrom(IKubernetes client, string component) => new(client, component, Environment.MachineName, _logger, Time);

    /// <summary>Runs one key now, outside the workers (tests).</summary>
    internal Task<Reconciled> ReconcileNowAsync(string key, CancellationToken cancellationToken) => ReconcileAsync(key, cancellationToken);

    public void Dispose()
    {
        Queue.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (await Queue.GetAsync(cancellationToken) is { } key)
        {
            var started = Time.GetTimestamp();
            try
            {
                Interlocked.Increment(ref _reconciles);
                var result = await ReconcileAsync(key, cancellationToken);
                _metrics.Reconciled(Time.GetElapsedTime(started), result.RequeueAfter is not null);
                Queue.Forget(key);
                if (result.RequeueAfter is { } delay)
                {
                    Queue.AddAfter(key, delay);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // a failing key is retried with back-off; the loop must go on
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _errors);
                _metrics.Failed(Time.GetElapsedTime(started));
                var detail = e is HttpOperationException http ? $"{(int)http.Response.StatusCode}: {http.Response.Content}" : e.Message;
                LogReconcileFailed(_logger, Name, key, Queue.Limiter.Failures(key) + 1, detail);
                Queue.AddRateLimited(key);
            }
            finally
            {
                Queue.Done(key);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Controller} controller started with {Workers} workers")]
    private static partial void LogStarted(ILogger logger, string controller, int workers);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Controller}: reconciling {Key} failed (attempt {Attempt}), retrying with back-off: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, string controller, string key, int attempt, string error);
}
