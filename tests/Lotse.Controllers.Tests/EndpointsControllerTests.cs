using k8s;
using k8s.Models;
using Lotse.Controllers.EndpointSlice;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class EndpointsControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    private async Task PodAsync(string ns, string name, string? ip, bool ready, string app = "web")
    {
        await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } },
            Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = "c", Image = "busybox", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }] },
        }, ns);
        if (ip is not null)
        {
            await SetStatusAsync(ns, name, ip, ready);
        }
    }

    private async Task SetStatusAsync(string ns, string name, string ip, bool ready)
    {
        var status = new System.Text.Json.Nodes.JsonObject
        {
            ["status"] = new System.Text.Json.Nodes.JsonObject
            {
                ["phase"] = "Running",
                ["podIP"] = ip,
                ["podIPs"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["ip"] = ip }),
                ["conditions"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
            },
        }.ToJsonString();
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), name, ns);
    }

    private async Task<V1Endpoints?> EndpointsAsync(string ns) =>
        (await _client.CoreV1.ListNamespacedEndpointsAsync(ns)).Items.SingleOrDefault(e => e.Metadata.Name == "web");

    private async Task<List<V1EndpointSlice>> SlicesAsync(string ns) =>
        [.. (await _client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: $"{EndpointSliceController.ServiceNameLabel}=web")).Items];

    [Fact]
    public async Task Service_ListsSelectedPods_ByReadiness_WithNamedPortsResolved_AndFollowsChanges()
    {
        await _client.CreateNamespaceAsync("ep");
        await PodAsync("ep", "a", "10.42.0.5", ready: true);
        await PodAsync("ep", "b", "10.42.0.6", ready: false);
        await PodAsync("ep", "no-ip", null, ready: false);
        await PodAsync("ep", "other", "10.42.0.9", ready: true, app: "db");
        var service = await _client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = "http" }] },
        }, "ep");

        await EventuallyAsync(async () => (await EndpointsAsync("ep"))?.Subsets?.Count == 1, "the endpoints have a subset");
        var subset = (await EndpointsAsync("ep"))!.Subsets.Single();
        Assert.Equal(["10.42.0.5"], subset.Addresses.Select(a => a.Ip));
        Assert.Equal(["10.42.0.6"], subset.NotReadyAddresses.Select(a => a.Ip));
        Assert.Equal(("a", "node-1"), (subset.Addresses[0].TargetRef.Name, subset.Addresses[0].NodeName));
        Assert.Equal((8080, "http", "TCP"), (subset.Ports.Single().Port, subset.Ports.Single().Name, subset.Ports.Single().Protocol));

        await EventuallyAsync(async () => (await SlicesAsync("ep")).SingleOrDefault()?.Endpoints?.Count == 2, "one slice with two endpoints");
        var slice = (await SlicesAsync("ep")).Single();
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal(EndpointSliceController.ManagedBy, slice.Metadata.Labels[EndpointSliceController.ManagedByLabel]);
        Assert.Equal(service.Metadata.Uid, slice.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal(8080, slice.Ports.Single().Port);
        var conditions = slice.Endpoints.ToDictionary(e => e.Addresses.Single(), e => (e.Conditions.Ready, e.Conditions.Serving, e.Conditions.Terminating));
        Assert.Equal((true, true, false), conditions["10.42.0.5"]);
        Assert.Equal((false, false, false), conditions["10.42.0.6"]);

        // b becomes ready: both move.
        await SetStatusAsync("ep", "b", "10.42.0.6", ready: true);
        await EventuallyAsync(async () => (await EndpointsAsync("ep"))!.Subsets.Single().Addresses?.Count == 2, "both addresses are ready");
        await EventuallyAsync(async () => (await SlicesAsync("ep")).Single().Endpoints.All(e => e.Conditions.Ready == true), "both endpoints are ready");

        // The service goes: its endpoints and slices go with it.
        await _client.CoreV1.DeleteNamespacedServiceAsync("web", "ep");
        await EventuallyAsync(async () => await EndpointsAsync("ep") is null && (await SlicesAsync("ep")).Count == 0, "endpoints and slices are gone");
    }
}
