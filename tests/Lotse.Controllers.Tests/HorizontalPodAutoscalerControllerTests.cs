using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Autoscaling;
using Microsoft.Extensions.Logging.Abstractions;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

/// <summary>The HPA controller (a second one syncing every 200 ms beside the fixture's 15 s one).</summary>
[Collection(ControllersGroup.Name)]
public sealed class HorizontalPodAutoscalerControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task TheTargetIsKeptWithinBounds_AndMetricScalingSaysWhyItCannotWork()
    {
        await _client.CreateNamespaceAsync("hpa");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec { Replicas = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } }, Template = Helpers.Template("web") },
        }, "hpa");
        await Autoscaler("web-hpa", "Deployment", "web");
        await Autoscaler("lost-hpa", "Deployment", "missing");

        using var stop = new CancellationTokenSource();
        var informers = new InformerFactory(fixture.Client, NullLoggerFactory.Instance);
        using var controller = new HorizontalPodAutoscalerController(informers, NullLoggerFactory.Instance, syncPeriod: TimeSpan.FromMilliseconds(200));
        var run = Task.WhenAll(informers.RunAsync(stop.Token), controller.RunAsync(stop.Token));
        try
        {
            // Below minReplicas: scaled up to 3 (not on metrics).
            await EventuallyAsync(async () => (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "hpa")).Spec.Replicas == 3, "the deployment is scaled to minReplicas");
            // The event is posted in the background, a moment after the scale.
            await EventuallyAsync(
                async () => (await _client.CoreV1.ListNamespacedEventAsync("hpa", fieldSelector: "involvedObject.name=web-hpa")).Items
                    .Any(e => e.Reason == "SuccessfulRescale" && e.Message == "New size: 3; reason: Current number of replicas below Spec.MinReplicas"),
                "the rescale event is recorded");

            // Within bounds, metrics are needed: without the metrics API the HPA says so and changes nothing.
            await EventuallyAsync(async () => Condition(await Read("web-hpa"), "ScalingActive")?.Reason == "FailedGetResourceMetric", "the HPA reports the missing metrics");
            var hpa = await Read("web-hpa");
            Assert.Equal((3, "True"), (hpa.Status.CurrentReplicas, Condition(hpa, "AbleToScale")!.Status));
            Assert.Contains("unable to fetch metrics from resource metrics API", Condition(hpa, "ScalingActive")!.Message, StringComparison.Ordinal);
            Assert.Equal(3, (await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "hpa")).Spec.Replicas);

            await EventuallyAsync(async () => Condition(await Read("lost-hpa"), "AbleToScale") is not null, "the HPA without a target reports it");
            var lost = Condition(await Read("lost-hpa"), "AbleToScale");
            Assert.Equal(("False", "FailedGetScale"), (lost!.Status, lost.Reason));
            Assert.Contains("deployments.apps \"missing\" not found", lost.Message, StringComparison.Ordinal);
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

    private Task<V2HorizontalPodAutoscaler> Read(string name) => _client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(name, "hpa");

    private static V2HorizontalPodAutoscalerCondition? Condition(V2HorizontalPodAutoscaler hpa, string type) => hpa.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    private Task Autoscaler(string name, string kind, string target) => _client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(new V2HorizontalPodAutoscaler
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            MinReplicas = 3,
            MaxReplicas = 5,
            ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = kind, Name = target },
        },
    }, "hpa");
}
