using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Cron;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.CronJob;

/// <summary>
/// Kubernetes' CronJob controller (v2): at each scheduled time (in <c>spec.timeZone</c>, else the
/// controller's local zone) a Job from the template, named <c>&lt;cronjob&gt;-&lt;minutes since the epoch&gt;</c>
/// so no time runs twice; only the latest missed time runs, and not when it is older than
/// <c>startingDeadlineSeconds</c>; <c>concurrencyPolicy</c> Allow, Forbid (skip while one runs) or
/// Replace (delete the running ones first); <c>suspend</c>; status.active and the last schedule and
/// success times; finished Jobs beyond the history limits are deleted, oldest first.
/// </summary>
public sealed partial class CronJobController : Controller
{
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";
    private const int MaxMissedTimes = 100;
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V1CronJob> _cronJobs;
    private readonly Informer<V1Job> _jobs;

    public CronJobController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 2)
        : base("cronjob", loggerFactory.CreateLogger<CronJobController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "cronjob-controller");
        _cronJobs = informers.CronJobs();
        _jobs = informers.Jobs();
        _jobs.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
        _cronJobs.AddHandler(InformerHandler.ForAll<V1CronJob>(c => Queue.Add(ObjectKey.Of(c))));
        _jobs.AddHandler(InformerHandler.ForAll<V1Job>(job =>
        {
            if (Owners.ControllerOf(job) is { Kind: "CronJob" } owner)
            {
                Queue.Add(ObjectKey.Of(job.Metadata.NamespaceProperty, owner.Name));
            }
        }));
    }

    protected override IEnumerable<IInformer> Informers => [_cronJobs, _jobs];

    private static bool IsFinished(V1Job job, out string? type)
    {
        type = job.Status?.Conditions?.FirstOrDefault(c => c.Type is "Complete" or "Failed" && c.Status == "True")?.Type;
        return type is not null;
    }

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var cronJob = _cronJobs.Get(key);
        if (cronJob is null)
        {
            return Reconciled.Done;
        }

        var now = Time.GetUtcNow();
        var jobs = _jobs.ByIndex(Owners.OwnerUidIndex, cronJob.Metadata.Uid).Where(j => Owners.ControllerOf(j)?.Uid == cronJob.Metadata.Uid).ToList();
        var status = new Status(cronJob);
        await status.ReconcileAsync(_client, jobs, _events, cronJob, cancellationToken);
        Reconciled result = Reconciled.Done;
        if (cronJob.Metadata.DeletionTimestamp is null && cronJob.Spec.Suspend != true)
        {
            result = await ScheduleAsync(cronJob, jobs, status, now, cancellationToken);
        }

        await status.SaveAsync(_client, cronJob, cancellationToken);
        if (cronJob.Metadata.DeletionTimestamp is null)
        {
            await CleanUpAsync(cronJob, jobs, status, cancellationToken);
        }

        return result;
    }

    /// <summary>Starts the Job of the latest schedule time that has come and not run yet; answers when to look next.</summary>
    private async Task<Reconciled> ScheduleAsync(V1CronJob cronJob, List<V1Job> jobs, Status status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!CronSchedule.TryParse(cronJob.Spec.Schedule ?? string.Empty, out var schedule, out var error))
        {
            _events.Record(cronJob, EventRecorder.Warning, "UnparseableSchedule", $"unparseable schedule: \"{cronJob.Spec.Schedule}\" : {error}");
            return Reconciled.Done;
        }

        var zone = TimeZoneInfo.Local;
        if (cronJob.Spec.TimeZone is { } zoneName && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out zone))
        {
            _events.Record(cronJob, EventRecorder.Warning, "UnknownTimeZone", $"invalid timeZone: \"{zoneName}\": unknown time zone {zoneName}");
            return Reconciled.Done;
        }

        var deadline = cronJob.Spec.StartingDeadlineSeconds;
        var earliest = status.LastScheduleTime ?? new DateTimeOffset(DateTime.SpecifyKind(cronJob.Metadata.CreationTimestamp ?? now.UtcDateTime, DateTimeKind.Utc));
        if (deadline is { } seconds && now.AddSeconds(-seconds) > earliest)
        {
            earliest = now.AddSeconds(-seconds);
        }

        var (due, tooMany) = LatestDue(schedule, zone, earliest, now);
        var next = schedule.Next(now, zone);
        var after = next is { } n ? Reconciled.After(n - now + TimeSpan.FromMilliseconds(100)) : Reconciled.Done;
        if (due is not { } scheduled)
        {
            return after;
        }

        if (tooMany)
        {
            _events.Record(cronJob, EventRecorder.Warning, "TooManyMissedTimes", $"too many missed start times: > {MaxMissedTimes}. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
        }

        if (deadline is { } limit && scheduled.AddSeconds(limit) < now)
        {
            _events.Record(cronJob, EventRecorder.Warning, "MissSchedule", $"Missed scheduled time to start a job: {scheduled.ToString("O", System.Globalization.CultureInfo.InvariantCulture)}");
            return after;
        }

        var name = JobName(cronJob, scheduled);
        if (jobs.Any(j => j.Metadata.Name == name) || status.Active.Any(r => r.Name == name))
        {
            return after;
        }

        if (cronJob.Spec.ConcurrencyPolicy == "Forbid" && status.Active.Count > 0)
        {
            LogForbidden(Logger, cronJob.Metadata.NamespaceProperty, cronJob.Metadata.Name);
            return after;
        }

        if (cronJob.Spec.ConcurrencyPolicy == "Replace")
        {
            foreach (var active in status.Active.ToList())
            {
                await ApiCalls.IgnoreNotFoundAsync(_client.BatchV1.DeleteNamespacedJobAsync(active.Name, cronJob.Metadata.NamespaceProperty, new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cancellationToken));
                _events.Record(cronJob, EventRecorder.Normal, "SuccessfulDelete", $"Deleted job {active.Name}");
                status.Active.Remove(active);
            }
        }

        var job = NewJob(cronJob, name, scheduled, zone);
        try
        {
            var created = await _client.BatchV1.CreateNamespacedJobAsync(job, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _events.Record(cronJob, EventRecorder.Normal, "SuccessfulCreate", $"Created job {created.Metadata.Name}");
            status.Active.Add(new V1ObjectReference { ApiVersion = "batch/v1", Kind = "Job", Name = created.Metadata.Name, NamespaceProperty = created.Metadata.NamespaceProperty, Uid = created.Metadata.Uid, ResourceVersion = created.Metadata.ResourceVersion });
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made by an earlier round whose watch event has not arrived yet.
        }
        catch (HttpOperationException e)
        {
            _events.Record(cronJob, EventRecorder.Warning, "FailedCreate", $"Error creating job: {ApiCalls.StatusMessage(e)}");
            throw;
        }

        status.LastScheduleTime = scheduled;
        return after;
    }

    /// <summary>
    /// The latest schedule time in (<paramref name="earliest"/>, <paramref name="now"/>], and whether more
    /// than <see cref="MaxMissedTimes"/> were missed; then only the most recent window that holds one is walked.
    /// </summary>
    internal static (DateTimeOffset? Due, bool TooMany) LatestDue(CronSchedule schedule, TimeZoneInfo zone, DateTimeOffset earliest, DateTimeOffset now)
    {
        DateTimeOffset? due = null;
        var missed = 0;
        for (var t = schedule.Next(earliest, zone); t is { } at && at <= now; t = schedule.Next(at, zone))
        {
            due = at;
            if (++missed > MaxMissedTimes)
            {
                foreach (var window in (ReadOnlySpan<TimeSpan>)[TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(31), TimeSpan.FromDays(366)])
                {
                    DateTimeOffset? latest = null;
                    for (var w = schedule.Next(now - window, zone); w is { } wat && wat <= now; w = schedule.Next(wat, zone))
                    {
                        latest = wat;
                    }

                    if (latest is not null)
                    {
                        return (latest, true);
                    }
                }

                return (due, true);
            }
        }

        return (due, false);
    }

    /// <summary>kube's getJobName: the schedule time in minutes since the epoch keeps one Job per time.</summary>
    internal static string JobName(V1CronJob cronJob, DateTimeOffset scheduled) =>
        $"{cronJob.Metadata.Name}-{scheduled.ToUnixTimeSeconds() / 60}";

    private static V1Job NewJob(V1CronJob cronJob, string name, DateTimeOffset scheduled, TimeZoneInfo zone)
    {
        var template = cronJob.Spec.JobTemplate;
        var annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>())
        {
            [ScheduledTimestampAnnotation] = TimeZoneInfo.ConvertTime(scheduled, zone).ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture),
        };
        return new V1Job
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = template.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = annotations,
                OwnerReferences = [Owners.ControllerReference(cronJob, "batch/v1", "CronJob")],
            },
            Spec = template.Spec,
        };
    }

    /// <summary>Deletes finished Jobs beyond the history limits, oldest first.</summary>
    private async Task CleanUpAsync(V1CronJob cronJob, List<V1Job> jobs, Status status, CancellationToken cancellationToken)
    {
        var finished = jobs.Where(j => j.Metadata.DeletionTimestamp is null && IsFinished(j, out _)).ToList();
        foreach (var (type, limit) in new[] { ("Complete", cronJob.Spec.SuccessfulJobsHistoryLimit ?? 3), ("Failed", cronJob.Spec.FailedJobsHistoryLimit ?? 1) })
        {
            var ofType = finished.Where(j => IsFinished(j, out var t) && t == type).OrderBy(j => j.Status?.StartTime ?? j.Metadata.CreationTimestamp).ThenBy(j => j.Metadata.Name, StringComparer.Ordinal).ToList();
            foreach (var job in ofType.Take(Math.Max(0, ofType.Count - limit)))
            {
                await ApiCalls.IgnoreNotFoundAsync(_client.BatchV1.DeleteNamespacedJobAsync(job.Metadata.Name, job.Metadata.NamespaceProperty, new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cancellationToken));
                _events.Record(cronJob, EventRecorder.Normal, "SuccessfulDelete", $"Deleted job {job.Metadata.Name}");
            }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "cronjob {Namespace}/{Name}: not starting a job because the prior one is still running and the concurrency policy is Forbid")]
    private static partial void LogForbidden(ILogger logger, string @namespace, string name);
}
