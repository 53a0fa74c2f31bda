using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Controllers.CronJob;
using Lotse.Controllers.Runtime;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class CronJobControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private static V1CronJob CronJob(string name, string policy = "Allow", int successfulHistory = 3) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1CronJobSpec
        {
            Schedule = "* * * * *",
            Suspend = true,
            ConcurrencyPolicy = policy,
            SuccessfulJobsHistoryLimit = successfulHistory,
            JobTemplate = new V1JobTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["from"] = name } },
                Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox" }] } } },
            },
        },
    };

    /// <summary>Makes the controller believe the last run was <paramref name="minutesAgo"/> minutes ago, then lets it run: the time due since is now.</summary>
    private async Task ResumeAsync(string ns, string name, int minutesAgo)
    {
        var last = DateTimeOffset.UtcNow.AddMinutes(-minutesAgo);
        await _client.BatchV1.PatchNamespacedCronJobStatusAsync(new V1Patch(new JsonObject { ["status"] = new JsonObject { ["lastScheduleTime"] = KubeTime.Format(last) } }.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns);
        await _client.BatchV1.PatchNamespacedCronJobAsync(new V1Patch("""{"spec":{"suspend":false}}""", V1Patch.PatchType.MergePatch), name, ns);
    }

    private async Task<List<V1Job>> JobsAsync(string ns) => [.. (await _client.BatchV1.ListNamespacedJobAsync(ns)).Items.Where(j => j.Metadata.DeletionTimestamp is null)];

    private async Task CompleteAsync(string ns, string name)
    {
        var now = KubeTime.Format(DateTimeOffset.UtcNow);
        var status = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["startTime"] = now,
                ["completionTime"] = now,
                ["conditions"] = new JsonArray(
                    new JsonObject { ["type"] = "SuccessCriteriaMet", ["status"] = "True" },
                    new JsonObject { ["type"] = "Complete", ["status"] = "True" }),
            },
        };
        await _client.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns);
    }

    [Fact]
    public async Task DueTime_StartsOneJob_NamedAfterTheMinute_AndTracksIt()
    {
        const string ns = "cj-due";
        await _client.CreateNamespaceAsync(ns);
        await _client.BatchV1.CreateNamespacedCronJobAsync(CronJob("tick"), ns);
        await Task.Delay(300);
        Assert.Empty(await JobsAsync(ns));

        await ResumeAsync(ns, "tick", minutesAgo: 3);
        await EventuallyAsync(async () => (await JobsAsync(ns)).Count == 1, "one job starts for the latest missed minute");
        var job = (await JobsAsync(ns)).Single();
        var expected = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
        Assert.InRange(long.Parse(job.Metadata.Name["tick-".Length..], System.Globalization.CultureInfo.InvariantCulture), expected - 1, expected);
        Assert.Equal("tick", job.Metadata.Labels["from"]);
        Assert.Equal("CronJob", job.Metadata.OwnerReferences.Single().Kind);
        Assert.True(job.Metadata.Annotations.ContainsKey(CronJobController.ScheduledTimestampAnnotation));
        await EventuallyAsync(async () => (await _client.BatchV1.ReadNamespacedCronJobAsync("tick", ns)).Status?.Active?.SingleOrDefault()?.Name == job.Metadata.Name, "status.active lists the job");
        Assert.NotNull((await _client.BatchV1.ReadNamespacedCronJobAsync("tick", ns)).Status.LastScheduleTime);

        await CompleteAsync(ns, job.Metadata.Name);
        await EventuallyAsync(
            async () => (await _client.BatchV1.ReadNamespacedCronJobAsync("tick", ns)).Status is { LastSuccessfulTime: not null } s && (s.Active is null || s.Active.Count == 0),
            "the finished job leaves status.active and sets lastSuccessfulTime");
    }

    /// <summary>A Job of <paramref name="cronJob"/> as if it had been started <paramref name="minutesAgo"/> minutes ago.</summary>
    private async Task<string> OwnedJobAsync(string ns, V1CronJob cronJob, int minutesAgo)
    {
        var name = $"{cronJob.Metadata.Name}-{(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60) - minutesAgo}";
        await _client.BatchV1.CreateNamespacedJobAsync(
            new V1Job
            {
                Metadata = new V1ObjectMeta { Name = name, OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "CronJob", Name = cronJob.Metadata.Name, Uid = cronJob.Metadata.Uid, Controller = true }] },
                Spec = cronJob.Spec.JobTemplate.Spec,
            },
            ns);
        return name;
    }

    [Fact]
    public async Task Forbid_SkipsWhileOneRuns_Replace_DeletesIt()
    {
        const string ns = "cj-policy";
        await _client.CreateNamespaceAsync(ns);
        var cronJob = await _client.BatchV1.CreateNamespacedCronJobAsync(CronJob("solo", policy: "Forbid"), ns);
        var running = await OwnedJobAsync(ns, cronJob, minutesAgo: 10);

        await ResumeAsync(ns, "solo", minutesAgo: 2);
        await EventuallyAsync(async () => (await _client.BatchV1.ReadNamespacedCronJobAsync("solo", ns)).Status?.Active?.SingleOrDefault()?.Name == running, "the running job is adopted into status.active");
        await Task.Delay(500);
        Assert.Equal(running, (await JobsAsync(ns)).Single().Metadata.Name);

        await _client.BatchV1.PatchNamespacedCronJobAsync(new V1Patch("""{"spec":{"suspend":true,"concurrencyPolicy":"Replace"}}""", V1Patch.PatchType.MergePatch), "solo", ns);
        await ResumeAsync(ns, "solo", minutesAgo: 2);
        await EventuallyAsync(async () => (await JobsAsync(ns)).SingleOrDefault() is { } job && job.Metadata.Name != running, "Replace deletes the running job and starts the due one");
    }

    [Fact]
    public async Task HistoryLimit_DeletesTheOldestFinishedJobs()
    {
        const string ns = "cj-history";
        await _client.CreateNamespaceAsync(ns);
        var cronJob = await _client.BatchV1.CreateNamespacedCronJobAsync(CronJob("keep", successfulHistory: 1), ns);
        var older = await OwnedJobAsync(ns, cronJob, minutesAgo: 30);
        await CompleteAsync(ns, older);
        var newer = await OwnedJobAsync(ns, cronJob, minutesAgo: 20);
        await CompleteAsync(ns, newer);

        await EventuallyAsync(async () => (await JobsAsync(ns)).Count == 1, "only the newest finished job is kept");
        Assert.Equal(newer, (await JobsAsync(ns)).Single().Metadata.Name);
    }
}
