using k8s;
using k8s.Models;
using Lotse.Controllers.Job;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class JobControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private static V1Job Job(string name, int? completions = null, int parallelism = 1, int backoffLimit = 6, string? mode = null, bool suspend = false, long? deadline = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1JobSpec
        {
            Completions = completions,
            Parallelism = parallelism,
            BackoffLimit = backoffLimit,
            CompletionMode = mode,
            Suspend = suspend,
            ActiveDeadlineSeconds = deadline,
            Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox" }] } },
        },
    };

    private async Task<List<V1Pod>> PodsAsync(string ns) => [.. (await _client.CoreV1.ListNamespacedPodAsync(ns)).Items];

    private async Task FinishAsync(string ns, V1Pod pod, string phase) =>
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch($"{{\"status\":{{\"phase\":\"{phase}\"}}}}", V1Patch.PatchType.MergePatch), pod.Metadata.Name, ns);

    private async Task<V1Job> ReadAsync(string ns, string name) => await _client.BatchV1.ReadNamespacedJobAsync(name, ns);

    private static bool Has(V1Job job, string type, string? reason = null) =>
        job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True" && (reason is null || c.Reason == reason)) == true;

    [Fact]
    public async Task Completions_RunOneAtATime_UntilEnoughSucceeded()
    {
        await _client.CreateNamespaceAsync("job-complete");
        await _client.BatchV1.CreateNamespacedJobAsync(Job("work", completions: 2), "job-complete");
        for (var round = 1; round <= 2; round++)
        {
            var expected = round;
            await EventuallyAsync(async () => (await PodsAsync("job-complete")).Count == expected, $"pod {round} exists");
            var pending = (await PodsAsync("job-complete")).Single(p => p.Status?.Phase != "Succeeded");
            Assert.StartsWith("work-", pending.Metadata.Name, StringComparison.Ordinal);
            Assert.Equal("work", pending.Metadata.Labels["job-name"]);
            await FinishAsync("job-complete", pending, "Succeeded");
        }

        await EventuallyAsync(async () => Has(await ReadAsync("job-complete", "work"), "Complete", "CompletionsReached"), "the job is complete");
        var job = await ReadAsync("job-complete", "work");
        Assert.True(Has(job, "SuccessCriteriaMet"));
        Assert.Equal(2, job.Status.Succeeded);
        Assert.NotNull(job.Status.CompletionTime);
        Assert.NotNull(job.Status.StartTime);
        Assert.Null(job.Status.Active);
        Assert.Equal(2, (await PodsAsync("job-complete")).Count);
    }

    [Fact]
    public async Task BackoffLimit_Exceeded_FailsTheJob()
    {
        await _client.CreateNamespaceAsync("job-fail");
        await _client.BatchV1.CreateNamespacedJobAsync(Job("crash", backoffLimit: 0), "job-fail");
        await EventuallyAsync(async () => (await PodsAsync("job-fail")).Count == 1, "a pod exists");
        await FinishAsync("job-fail", (await PodsAsync("job-fail"))[0], "Failed");
        await EventuallyAsync(async () => Has(await ReadAsync("job-fail", "crash"), "Failed", "BackoffLimitExceeded"), "the job failed");
        var job = await ReadAsync("job-fail", "crash");
        Assert.True(Has(job, "FailureTarget"));
        Assert.Equal(1, job.Status.Failed);
        Assert.Equal("Job has reached the specified backoff limit", job.Status.Conditions.Single(c => c.Type == "Failed").Message);
        Assert.Single(await PodsAsync("job-fail")); // no replacement
    }

    [Fact]
    public async Task Indexed_EachPodGetsItsIndex_CompletedIndexesTracked()
    {
        await _client.CreateNamespaceAsync("job-indexed");
        await _client.BatchV1.CreateNamespacedJobAsync(Job("idx", completions: 3, parallelism: 3, mode: "Indexed"), "job-indexed");
        await EventuallyAsync(async () => (await PodsAsync("job-indexed")).Count == 3, "3 pods exist");
        var pods = await PodsAsync("job-indexed");
        Assert.Equal(["0", "1", "2"], pods.Select(p => p.Metadata.Annotations[JobController.CompletionIndexAnnotation]).Order());
        var one = pods.Single(p => p.Metadata.Annotations[JobController.CompletionIndexAnnotation] == "1");
        Assert.Equal("idx-1", one.Spec.Hostname);
        Assert.Contains(one.Spec.Containers[0].Env, e => e.Name == "JOB_COMPLETION_INDEX");
        await FinishAsync("job-indexed", one, "Succeeded");
        await EventuallyAsync(async () => (await ReadAsync("job-indexed", "idx")).Status?.CompletedIndexes == "1", "index 1 is complete");
        foreach (var pod in pods.Where(p => p != one))
        {
            await FinishAsync("job-indexed", pod, "Succeeded");
        }

        await EventuallyAsync(async () => Has(await ReadAsync("job-indexed", "idx"), "Complete"), "the job is complete");
        Assert.Equal("0-2", (await ReadAsync("job-indexed", "idx")).Status.CompletedIndexes);
    }

    [Fact]
    public async Task Suspended_RunsNothing_DeadlineFails()
    {
        await _client.CreateNamespaceAsync("job-suspend");
        await _client.BatchV1.CreateNamespacedJobAsync(Job("later", suspend: true), "job-suspend");
        await EventuallyAsync(async () => Has(await ReadAsync("job-suspend", "later"), "Suspended", "JobSuspended"), "the job is suspended");
        Assert.Empty(await PodsAsync("job-suspend"));

        await _client.BatchV1.CreateNamespacedJobAsync(Job("slow", deadline: 1), "job-suspend");
        await EventuallyAsync(async () => Has(await ReadAsync("job-suspend", "slow"), "Failed", "DeadlineExceeded"), "the job ran past its deadline");
        await EventuallyAsync(async () => (await PodsAsync("job-suspend")).Count == 0, "its pod is deleted");
    }

    private async Task FailWithExitCodeAsync(string ns, V1Pod pod, int exitCode, string? condition = null)
    {
        var status = new System.Text.Json.Nodes.JsonObject
        {
            ["phase"] = "Failed",
            ["containerStatuses"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = "c",
                ["image"] = "busybox",
                ["imageID"] = string.Empty,
                ["ready"] = false,
                ["restartCount"] = 0,
                ["state"] = new System.Text.Json.Nodes.JsonObject { ["terminated"] = new System.Text.Json.Nodes.JsonObject { ["exitCode"] = exitCode, ["reason"] = "Error" } },
            }),
        };
        if (condition is not null)
        {
            status["conditions"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["type"] = condition, ["status"] = "True" });
        }

        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(new System.Text.Json.Nodes.JsonObject { ["status"] = status }.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, ns);
    }

    [Fact]
    public async Task PodFailurePolicy_FailJobOnExitCode_IgnoreOnDisruption()
    {
        await _client.CreateNamespaceAsync("job-policy");
        var job = Job("policy", backoffLimit: 0);
        job.Spec.PodFailurePolicy = new V1PodFailurePolicy
        {
            Rules =
            [
                new V1PodFailurePolicyRule { Action = "Ignore", OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget" }] },
                new V1PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "In", Values = [42] } },
            ],
        };
        await _client.BatchV1.CreateNamespacedJobAsync(job, "job-policy");
        await EventuallyAsync(async () => (await PodsAsync("job-policy")).Count == 1, "a pod exists");

        // A disrupted pod is not counted: with backoffLimit 0 the job goes on with a replacement.
        var first = (await PodsAsync("job-policy"))[0];
        await FailWithExitCodeAsync("job-policy", first, 137, condition: "DisruptionTarget");
        await EventuallyAsync(async () => (await PodsAsync("job-policy")).Count == 2, "the disrupted pod is replaced at once");
        Assert.False(Has(await ReadAsync("job-policy", "policy"), "Failed"));

        // Exit code 42 fails the whole job, whatever the back-off limit.
        var second = (await PodsAsync("job-policy")).Single(p => p.Metadata.Uid != first.Metadata.Uid);
        await FailWithExitCodeAsync("job-policy", second, 42);
        await EventuallyAsync(async () => Has(await ReadAsync("job-policy", "policy"), "Failed", "PodFailurePolicy"), "the job failed by its policy");
        var failed = (await ReadAsync("job-policy", "policy")).Status.Conditions.Single(c => c.Type == "Failed");
        Assert.Equal($"Container c for pod job-policy/{second.Metadata.Name} failed with exit code 42 matching FailJob rule at index 1", failed.Message);
        Assert.Equal(1, (await ReadAsync("job-policy", "policy")).Status.Failed);
    }

    [Fact]
    public async Task BackoffLimitPerIndex_FailsOnlyThatIndex_ThenTheJob()
    {
        await _client.CreateNamespaceAsync("job-per-index");
        var job = Job("per", completions: 3, parallelism: 3, mode: "Indexed");
        job.Spec.BackoffLimitPerIndex = 0;
        await _client.BatchV1.CreateNamespacedJobAsync(job, "job-per-index");
        await EventuallyAsync(async () => (await PodsAsync("job-per-index")).Count == 3, "3 pods exist");
        var pods = await PodsAsync("job-per-index");
        await FinishAsync("job-per-index", pods.Single(p => p.Metadata.Annotations[JobController.CompletionIndexAnnotation] == "1"), "Failed");
        await EventuallyAsync(async () => (await ReadAsync("job-per-index", "per")).Status?.FailedIndexes == "1", "index 1 failed");
        Assert.False(Has(await ReadAsync("job-per-index", "per"), "Failed"));
        foreach (var pod in pods.Where(p => p.Metadata.Annotations[JobController.CompletionIndexAnnotation] != "1"))
        {
            await FinishAsync("job-per-index", pod, "Succeeded");
        }

        await EventuallyAsync(async () => Has(await ReadAsync("job-per-index", "per"), "Failed", "FailedIndexes"), "the job failed for its failed index");
        Assert.Equal("0,2", (await ReadAsync("job-per-index", "per")).Status.CompletedIndexes);
        Assert.Equal(3, (await PodsAsync("job-per-index")).Count); // index 1 was not retried
    }

    [Fact]
    public void CompletedIndexes_FormatsRanges()
    {
        Assert.Equal("1,3-5,7", CompletedIndexes.Format([7, 3, 4, 5, 1, 4]));
        Assert.Null(CompletedIndexes.Format([]));
        Assert.Equal([1, 3, 4, 5, 7], CompletedIndexes.Parse("1,3-5,7"));
    }
}
