using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class QuiescenceTests(ControllersFixture fixture)
{
    /// <summary>Controllers at rest do not write their own events back into more work (no hot loop).</summary>
    [Fact]
    public async Task SettledCluster_ControllersGoQuiet()
    {
        var client = fixture.Client;
        await client.CreateNamespaceAsync("quiet");
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = Helpers.Template("web"),
            },
        }, "quiet");
        await client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = "web" }, Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Port = 80 }] } }, "quiet");
        await client.BatchV1.CreateNamespacedJobAsync(new V1Job { Metadata = new V1ObjectMeta { Name = "j" }, Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox" }] } } } }, "quiet");
        await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("quiet")).Items.Count == 3, "the deployment's and the job's pods exist");
        await Task.Delay(1000);

        var before = fixture.Manager.Controllers.ToDictionary(c => c.Name, c => c.Reconciles);
        await Task.Delay(2000);
        foreach (var controller in fixture.Manager.Controllers)
        {
            var more = controller.Reconciles - before[controller.Name];
            Assert.True(more <= 3, $"{controller.Name} reconciled {more} times in 2 s at rest");
            Assert.Equal(0, controller.Queue.Depth);
        }
    }
}
