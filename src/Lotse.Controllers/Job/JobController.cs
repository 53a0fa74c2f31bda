using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.Job;

/// <summary>
/// Kubernetes' Job controller: runs pods from the template until <c>completions</c> succeeded (or,
/// without completions, until one succeeded and none is left running), at most
/// <c>parallelism</c> at a time; Indexed jobs give each pod its completion index. A job fails when
/// more pods failed than <c>backoffLimit</c> or it ran longer than <c>activeDeadlineSeconds</c>;
/// a failed pod is replaced after a back-off (10 s doubling, at most 6 min); <c>suspend</c> stops
/// its pods. A <see cref="PodFailurePolicy"/> may fail the Job at once, ignore a failure or fail an
/// index; with <c>backoffLimitPerIndex</c> each index has its own limit (<c>failedIndexes</c>,
/// <c>maxFailedIndexes</c>) instead of the Job's. Terminal states are the condition pairs of kube 1.31+: SuccessCriteriaMet + Complete,
/// FailureTarget + Failed.
/// </summary>
public sealed partial class JobController : Controller
{
    public const string CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
    public const string CompletionIndexLabel = "batch.kubernetes.io/job-completion-index";
    private const string Kind = "Job";
    private const int Burst = 500;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(6);
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Informer<V1Job> _jobs;
    private readonly Informer<V1Pod> _pods;
    private readonly Expectations _expectations;
    private readonly TimeSpan _backoffBase;

    public JobController(InformerFactory informers, ILoggerFactory loggerFactory, TimeProvider? time = null, int workers = 5, TimeSpan? podFailureBackoff = null)
        : base("job", loggerFactory.CreateLogger<JobController>(), time, workers)
    {
        _client = informers.Client;
        _events = EventsFrom(_client, "job-controller");
        _jobs = informers.Jobs();
        _pods = informers.Pods();
        _pods.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
        _expectations = new Expectations(Time);
        _backoffBase = podFailureBackoff ?? TimeSpan.FromSeconds(10);
        _jobs.AddHandler(InformerHandler.ForAll<V1Job>(j => Queue.Add(ObjectKey.Of(j))));
        _pods.AddHandler(new InformerHandler<V1Pod>(
            onAdd: pod => Observe(null, pod, removed: false),
            onUpdate: (old, pod) => Observe(old, pod, removed: false),
            onDelete: pod => Observe(null, pod, removed: true)));
    }

    protected override IEnumerable<IInformer> Informers => [_jobs, _pods];

    private static string? OwnerKey(V1Pod pod) =>
        Owners.ControllerOf(pod) is { Kind: Kind } owner ? ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name) : null;

    private void Observe(V1Pod? old, V1Pod pod, bool removed)
    {
        if (OwnerKey(pod) is { } owner)
        {
            _expectations.Observe(owner, old?.Metadata, pod.Metadata, removed);
            Queue.Add(owner);
        }
    }

    private static bool IsTrue(V1Job job, string type) => job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True") == true;

    private static int? IndexOf(V1Pod pod) =>
        pod.Metadata.Annotations is { } a && a.TryGetValue(CompletionIndexAnnotation, out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var index) ? index : null;

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var job = _jobs.Get(key);
        if (job is null)
        {
            _expectations.Forget(key);
            return Reconciled.Done;
        }

        if (job.Metadata.DeletionTimestamp is not null || IsTrue(job, "Complete") || IsTrue(job, "Failed"))
        {
            return Reconciled.Done;
        }

        var now = Time.GetUtcNow();
        var needsSync = _expectations.Satisfied(key); // before the cache is read (see Expectations)
        var pods = _pods.ByIndex(Owners.OwnerUidIndex, job.Metadata.Uid).Where(p => Owners.ControllerOf(p)?.Uid == job.Metadata.Uid).ToList();
        var active = pods.Where(PodStates.IsActive).ToList();
        var succeededPods = pods.Where(p => p.Status?.Phase == "Succeeded").ToList();
        var failedPods = pods.Where(p => p.Status?.Phase == "Failed").ToList();

        // Counts never go down: a finished pod that is deleted later still counted (kube tracks this with a finalizer).
        var succeeded = Math.Max(job.Status?.Succeeded ?? 0, succeededPods.Count);
        var policy = PodFailurePolicy.Evaluate(job, failedPods, IndexOf);
        failedPods = policy.Counted;
        var failed = Math.Max(job.Status?.Failed ?? 0, failedPods.Count);
        var indexed = job.Spec.CompletionMode == "Indexed";
        var completedIndexes = indexed
            ? [.. CompletedIndexes.Parse(job.Status?.CompletedIndexes).Concat(succeededPods.Select(IndexOf).OfType<int>()).Distinct()]
            : new List<int>();
        var perIndex = indexed ? job.Spec.BackoffLimitPerIndex : null;
        var failedIndexes = perIndex is { } limit
            ? [.. CompletedIndexes.Parse(job.Status?.FailedIndexes).Concat(policy.FailedIndexes)
                .Concat(failedPods.GroupBy(IndexOf).Where(g => g.Key is not null && g.Count() > limit).Select(g => g.Key!.Value))
                .Where(i => !completedIndexes.Contains(i)).Distinct()]
            : new List<int>();
        if (indexed)
        {
            succeeded = completedIndexes.Count;
        }

        var completions = job.Spec.Completions;
        var parallelism = job.Spec.Parallelism ?? 1;
        var startTime = job.Status?.StartTime is { } started ? new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        var status = new JsonObject();
        var conditions = new List<JsonObject>();
        var requeue = (TimeSpan?)null;

        string? failure = null;
        if (policy.FailJobMessage is { } matched)
        {
            failure = $"PodFailurePolicy|{matched}";
        }
        else if (perIndex is null && failed > (job.Spec.BackoffLimit ?? 6))
        {
            failure = "BackoffLimitExceeded|Job has reached the specified backoff limit";
        }
        else if (perIndex is not null && job.Spec.MaxFailedIndexes is { } maxFailed && failedIndexes.Count > maxFailed)
        {
            failure = "MaxFailedIndexesExceeded|Job has exceeded the specified maximal number of failed indexes";
        }
        else if (perIndex is not null && failedIndexes.Count > 0 && completedIndexes.Count + failedIndexes.Count >= (completions ?? 1))
        {
            failure = "FailedIndexes|Job has failed indexes";
        }
        else if (job.Spec.ActiveDeadlineSeconds is { } deadline && startTime is { } start && job.Spec.Suspend != true)
        {
            var due = start.AddSeconds(deadline);
            if (now >= due)
            {
                failure = "DeadlineExceeded|Job was active longer than specified deadline";
            }
            else
            {
                requeue = due - now;
            }
        }

        var complete = failure is null && (completions is { } wanted ? succeeded >= wanted : succeeded > 0 && active.Count == 0);
        if (failure is not null || complete)
        {
            await DeletePodsAsync(job, key, active, cancellationToken);
            var (reason, message) = failure is null ? ("CompletionsReached", "Reached expected number of succeeded pods") : (failure[..failure.IndexOf('|', StringComparison.Ordinal)], failure[(failure.IndexOf('|', StringComparison.Ordinal) + 1)..]);
            conditions.Add(Condition(failure is null ? "SuccessCriteriaMet" : "FailureTarget", reason, message, now));
            conditions.Add(Condition(failure is null ? "Complete" : "Failed", reason, message, now));
            _events.Record(job, failure is null ? EventRecorder.Normal : EventRecorder.Warning, failure is null ? "Completed" : reason, failure is null ? "Job completed" : message);
            if (failure is null)
            {
                status["completionTime"] = Timestamp(now);
            }

            active = [];
        }
        else if (job.Spec.Suspend == true)
        {
            await DeletePodsAsync(job, key, active, cancellationToken);
            active = [];
            if (!IsTrue(job, "Suspended"))
            {
                conditions.Add(Condition("Suspended", "JobSuspended", "Job suspended", now));
            }
        }
        else
        {
            if (startTime is null || IsTrue(job, "Suspended"))
            {
                status["startTime"] = Timestamp(now);
                if (IsTrue(job, "Suspended"))
                {
                    conditions.Add(Condition("Suspended", "JobResumed", "Job resumed", now, "False"));
                }
            }

            if (needsSync)
            {
                requeue = Min(requeue, await ManagePodsAsync(job, key, active, failedPods, [.. completedIndexes, .. failedIndexes], succeeded, now, cancellationToken));
            }
        }

        status["active"] = NullIfZero(active.Count);
        status["ready"] = active.Count(PodStates.IsReady);
        status["succeeded"] = NullIfZero(succeeded);
        status["failed"] = NullIfZero(failed);
        status["terminating"] = pods.Count(p => p.Metadata.DeletionTimestamp is not null && p.Status?.Phase is not ("Succeeded" or "Failed"));
        if (indexed)
        {
            status["completedIndexes"] = CompletedIndexes.Format(completedIndexes) ?? string.Empty;
        }

        if (perIndex is not null)
        {
            status["failedIndexes"] = CompletedIndexes.Format(failedIndexes) ?? string.Empty;
        }

        await UpdateStatusAsync(job, status, conditions, cancellationToken);
        return requeue is { } after ? Reconciled.After(after) : Reconciled.Done;
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    /// <summary>Creates the pods still wanted (or deletes surplus ones); returns when to look again for a back-off that is due.</summary>
    /// <param name="doneIndexes">Indexes that need no more pods: completed, or failed past their own back-off limit.</param>
    private async Task<TimeSpan?> ManagePodsAsync(V1Job job, string key, List<V1Pod> active, List<V1Pod> failedPods, List<int> doneIndexes, int succeeded, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parallelism = job.Spec.Parallelism ?? 1;
        int wanted;
        List<int> indexes = [];
        if (job.Spec.CompletionMode == "Indexed")
        {
            var running = active.Select(IndexOf).OfType<int>().ToHashSet();
            indexes = [.. Enumerable.Range(0, job.Spec.Completions ?? 1).Where(i => !doneIndexes.Contains(i) && !running.Contains(i))];
            wanted = Math.Min(parallelism, running.Count + indexes.Count);
        }
        else
        {
            wanted = job.Spec.Completions is { } completions ? Math.Min(parallelism, completions - succeeded) : (succeeded > 0 ? 0 : parallelism);
        }

        var diff = wanted - active.Count;
        if (diff < 0)
        {
            await DeletePodsAsync(job, key, [.. PodStates.DeletionOrder(active).Take(-diff)], cancellationToken);
            return null;
        }

        if (diff == 0)
        {
            return null;
        }

        // A failed pod is replaced only after the back-off: 10 s × 2^(failures − 1), at most 6 minutes.
        if (failedPods.Count > 0)
        {
            var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, _backoffBase.Ticks * (1L << Math.Min(failedPods.Count - 1, 20))));
            var lastFailure = failedPods.Max(FinishedAt);
            var due = lastFailure + backoff;
            if (now < due)
            {
                return due - now;
            }
        }

        var count = Math.Min(diff, Burst);
        _expectations.Expect(key, count);
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => CreatePodAsync(job, indexes.Count > i ? indexes[i] : null, cancellationToken)));
        var failures = results.Count(r => r is not null);
        if (failures > 0)
        {
            _expectations.LowerCreations(key, failures);
            throw results.First(r => r is not null)!;
        }

        return null;
    }

    private static DateTimeOffset FinishedAt(V1Pod pod)
    {
        var finished = pod.Status?.ContainerStatuses?.Select(c => c.State?.Terminated?.FinishedAt).OfType<DateTime>().DefaultIfEmpty().Max()
            ?? pod.Metadata.CreationTimestamp ?? DateTime.MinValue;
        return new DateTimeOffset(DateTime.SpecifyKind(finished == default ? pod.Metadata.CreationTimestamp ?? DateTime.MinValue : finished, DateTimeKind.Utc));
    }

    private async Task<Exception?> CreatePodAsync(V1Job job, int? index, CancellationToken cancellationToken)
    {
        var template = job.Spec.Template;
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = index is { } i ? $"{job.Metadata.Name}-{i}-" : $"{job.Metadata.Name}-",
                Labels = new Dictionary<string, string>(template?.Metadata?.Labels ?? new Dictionary<string, string>()),
                Annotations = new Dictionary<string, string>(template?.Metadata?.Annotations ?? new Dictionary<string, string>()),
                OwnerReferences = [Owners.ControllerReference(job, "batch/v1", Kind)],
            },
            Spec = template?.Spec,
        };
        if (index is { } completionIndex)
        {
            var text = completionIndex.ToString(CultureInfo.InvariantCulture);
            pod.Metadata.Annotations[CompletionIndexAnnotation] = text;
            pod.Metadata.Labels[CompletionIndexLabel] = text;
            pod.Spec = KubernetesJson.Deserialize<V1PodSpec>(KubernetesJson.Serialize(template?.Spec));
            pod.Spec.Hostname ??= $"{job.Metadata.Name}-{text}";
            foreach (var container in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
            {
                container.Env = [.. container.Env ?? [], new V1EnvVar { Name = "JOB_COMPLETION_INDEX", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = $"metadata.labels['{CompletionIndexLabel}']" } } }];
            }
        }

        try
        {
            var created = await _client.CoreV1.CreateNamespacedPodAsync(pod, job.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _events.Record(job, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
            return null;
        }
        catch (HttpOperationException e)
        {
            _events.Record(job, EventRecorder.Warning, "FailedCreate", $"Error creating: {ApiCalls.StatusMessage(e)}");
            return e;
        }
    }

    private async Task DeletePodsAsync(V1Job job, string key, List<V1Pod> pods, CancellationToken cancellationToken)
    {
        if (pods.Count > 0)
        {
            _expectations.Expect(key, 0, pods.Select(p => p.Metadata.Uid));
            await PodDeletions.DeleteAsync(_client, _events, _expectations, key, job, pods, cancellationToken);
        }
    }
}
