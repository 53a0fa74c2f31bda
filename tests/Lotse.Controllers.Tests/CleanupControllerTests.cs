using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.PodGc;
using Microsoft.Extensions.Logging.Abstractions;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

/// <summary>TTL after finished (through the controller manager) and the pod GC (a second one with short durations).</summary>
[Collection(ControllersGroup.Name)]
public sealed class CleanupControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task AFinishedJobWithATtl_IsDeletedWhenItExpires_AndOneWithoutStays()
    {
        await _client.CreateNamespaceAsync("ttl");
        foreach (var (name, ttl) in (ValueTuple<string, int?>[])[("short", 1), ("kept", null)])
        {
            await _client.BatchV1.CreateNamespacedJobAsync(new V1Job
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1JobSpec
                {
                    TtlSecondsAfterFinished = ttl,
                    Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox" }] } },
                },
            }, "ttl");
        }

        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("ttl")).Items.Count == 2, "both jobs have a pod");
        foreach (var pod in (await _client.CoreV1.ListNamespacedPodAsync("ttl")).Items)
        {
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch("""{"status":{"phase":"Succeeded"}}""", V1Patch.PatchType.MergePatch), pod.Metadata.Name, "ttl");
        }

        await EventuallyAsync(async () => (await _client.BatchV1.ListNamespacedJobAsync("ttl")).Items.Select(j => j.Metadata.Name).SequenceEqual(["kept"]), "the job with a TTL is deleted");
        var kept = await _client.BatchV1.ReadNamespacedJobAsync("kept", "ttl");
        Assert.Contains(kept.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
    }

    [Fact]
    public async Task PodGc_RemovesPodsOfAGoneNode_AndTheOldestFinishedPodsAboveTheThreshold()
    {
        await _client.CreateNamespaceAsync("podgc");
        await PodAsync("orphan", "ghost-node", phase: "Running");
        await PodAsync("done-0", null, phase: "Succeeded");
        await Task.Delay(1100); // creation times have second precision: these two are the newest finished pods
        await PodAsync("done-1", null, phase: "Failed");
        await PodAsync("done-2", null, phase: "Succeeded");

        using var stop = new CancellationTokenSource();
        var informers = new InformerFactory(fixture.Client, NullLoggerFactory.Instance);
        using var gc = new PodGcController(informers, NullLoggerFactory.Instance, options: new PodGcOptions
        {
            CheckPeriod = TimeSpan.FromMilliseconds(200),
            Quarantine = TimeSpan.FromMilliseconds(500),
            TerminatedPodThreshold = 2,
        });
        var run = Task.WhenAll(informers.RunAsync(stop.Token), gc.RunAsync(stop.Token));
        try
        {
            await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("podgc")).Items.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal).SequenceEqual(["done-1", "done-2"]),
                "the orphan and the oldest finished pod are gone");
            var finished = (await _client.CoreV1.ListPodForAllNamespacesAsync()).Items.Count(p => p.Status?.Phase is "Succeeded" or "Failed");
            Assert.Equal(2, finished);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task PodAsync(string name, string? node, string phase)
    {
        await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = "busybox" }] },
        }, "podgc");
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch($$"""{"status":{"phase":"{{phase}}"} }""", V1Patch.PatchType.MergePatch), name, "podgc");
    }
}
