using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.TtlAfterFinished;

/// <summary>
/// Kubernetes' TTL-after-finished controller: a Job with <c>ttlSecondsAfterFinished</c> is deleted
/// (with its pods) that many seconds after its Complete or Failed condition turned True. The TTL is
/// checked again on a live read just before the delete, which is pinned to that read's version, so a
/// Job whose TTL was changed or removed meanwhile stays.
/// </summary>
public sealed partial class TtlAfterFinishedController : Controller
{
    private readonly IKubernetes _client;
    private readonly Informer<V1Job> _jobs;

    public TtlAfterFinishedController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null)
        : base("ttl-after-finished", loggerFactory.CreateLogger<TtlAfterFinishedController>(), time)
    {
        _client = informers.Client;
        _jobs = informers.Jobs();
        _jobs.AddHandler(new InformerHandler<V1Job>(Enqueue, (_, job) => Enqueue(job)));
    }

    protected override IEnumerable<IInformer> Informers => [_jobs];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var cached = _jobs.Get(key);
        if (cached is null || Remaining(cached) is not { } remaining)
        {
            return Reconciled.Done;
        }

        if (remaining > TimeSpan.Zero)
        {
            return Reconciled.After(remaining);
        }

        var fresh = await ApiCalls.ReadOrNullAsync(_client.BatchV1.ReadNamespacedJobAsync(cached.Metadata.Name, cached.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        var left = fresh is null ? null : Remaining(fresh);
        if (left is null)
        {
            return Reconciled.Done;
        }

        if (left > TimeSpan.Zero)
        {
            return Reconciled.After(left.Value);
        }

        LogExpired(Logger, fresh!.Metadata.NamespaceProperty, fresh.Metadata.Name);
        await ApiCalls.IgnoreNotFoundAsync(_client.BatchV1.DeleteNamespacedJobAsync(fresh.Metadata.Name, fresh.Metadata.NamespaceProperty, new V1DeleteOptions
        {
            PropagationPolicy = "Background",
            Preconditions = new V1Preconditions { ResourceVersion = fresh.Metadata.ResourceVersion },
        }, cancellationToken: cancellationToken));
        return Reconciled.Done;
    }

    /// <summary>How long until the finished Job expires; null if it has no TTL, is not finished or is being deleted.</summary>
    private TimeSpan? Remaining(V1Job job)
    {
        if (job.Spec?.TtlSecondsAfterFinished is not { } ttl || job.Metadata.DeletionTimestamp is not null)
        {
            return null;
        }

        var finished = job.Status?.Conditions?.FirstOrDefault(c => c.Type is "Complete" or "Failed" && c.Status == "True");
        if (finished is null)
        {
            return null;
        }

        var at = finished.LastTransitionTime ?? job.Status?.CompletionTime ?? DateTime.UtcNow;
        return new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)).AddSeconds(ttl) - Time.GetUtcNow();
    }

    private void Enqueue(V1Job job)
    {
        if (job.Spec?.TtlSecondsAfterFinished is not null)
        {
            Queue.Add(ObjectKey.Of(job));
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "job {Namespace}/{Name} finished longer ago than its ttlSecondsAfterFinished: deleting it")]
    private static partial void LogExpired(ILogger logger, string @namespace, string name);
}
