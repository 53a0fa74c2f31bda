using k8s;
using k8s.Models;
using Lotse.Controllers.NodeIpam;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class NodeIpamControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task Nodes_GetDistinctRangesOfTheClusterCidr_AndAFreedRangeIsReused()
    {
        var names = new[] { "ipam-a", "ipam-b", "ipam-c" };
        foreach (var name in names)
        {
            await _client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name } });
        }

        async Task<Dictionary<string, string?>> CidrsAsync() =>
            (await _client.CoreV1.ListNodeAsync()).Items.Where(n => names.Contains(n.Metadata.Name)).ToDictionary(n => n.Metadata.Name, n => n.Spec?.PodCIDR);
        await EventuallyAsync(async () => (await CidrsAsync()).Values.All(c => c is not null), "every node has a pod CIDR");
        var cidrs = await CidrsAsync();
        Assert.Equal(3, cidrs.Values.Distinct().Count());
        Assert.All(cidrs.Values, c => Assert.Matches(@"^10\.42\.\d+\.0/24$", c));
        var node = await _client.CoreV1.ReadNodeAsync("ipam-b");
        Assert.Equal([node.Spec.PodCIDR], node.Spec.PodCIDRs);

        await _client.CoreV1.DeleteNodeAsync("ipam-b");
        await _client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "ipam-d" } });
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNodeAsync("ipam-d")).Spec?.PodCIDR is not null, "the new node has a pod CIDR");
        var taken = (await _client.CoreV1.ListNodeAsync()).Items.Where(n => n.Spec?.PodCIDR is not null).Select(n => n.Spec.PodCIDR).ToList();
        Assert.Equal(taken.Count, taken.Distinct().Count());
        foreach (var name in new[] { "ipam-a", "ipam-c", "ipam-d" })
        {
            await _client.CoreV1.DeleteNodeAsync(name);
        }
    }

    [Theory]
    [InlineData("10.42.0.0/16", 24, 0, "10.42.0.0/24")]
    [InlineData("10.42.0.0/16", 24, 255, "10.42.255.0/24")]
    [InlineData("10.42.7.9/16", 24, 3, "10.42.3.0/24")]
    [InlineData("172.16.0.0/12", 20, 2, "172.16.32.0/20")]
    public void Cidr_OfABlock(string clusterCidr, int mask, int index, string expected)
    {
        using var controller = new NodeIpamController(new Client.Informers.InformerFactory(fixture.Client, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance), clusterCidr, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, maskSize: mask);
        Assert.Equal(expected, controller.Cidr(index));
    }

    [Theory]
    [InlineData("10.42.0.0")]
    [InlineData("fd00::/64")]
    [InlineData("10.42.0.0/33")]
    public void BadClusterCidr_IsRejected(string cidr) =>
        Assert.Throws<ArgumentException>(() => NodeIpamController.Parse(cidr));
}
