using k8s.Models;
using Lotse.Scheduler.Framework;
using Lotse.Scheduler.Plugins.NodeAffinity;
using Lotse.Scheduler.Plugins.NodePorts;
using Lotse.Scheduler.Plugins.NodeResourcesFit;
using Lotse.Scheduler.Plugins.TaintToleration;

namespace Lotse.Scheduler.Tests.Plugins;

public class PluginTests
{
    private static NodeInfo Node(string cpu = "2", string memory = "4Gi", Dictionary<string, string>? labels = null, V1Taint[]? taints = null) => new(new V1Node
    {
        Metadata = new V1ObjectMeta { Name = "n", Labels = labels },
        Spec = new V1NodeSpec { Taints = taints },
        Status = new V1NodeStatus { Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory), ["pods"] = new("110") } },
    });

    private static PodInfo Pod(Action<V1PodSpec>? change = null, params (string Name, string Cpu, string? Limit)[] containers)
    {
        var spec = new V1PodSpec
        {
            Containers = [.. containers.Select(c => new V1Container
            {
                Name = c.Name,
                Resources = new V1ResourceRequirements
                {
                    Requests = c.Cpu.Length == 0 ? null : new Dictionary<string, ResourceQuantity> { ["cpu"] = new(c.Cpu) },
                    Limits = c.Limit is null ? null : new Dictionary<string, ResourceQuantity> { ["cpu"] = new(c.Limit) },
                },
            })],
        };
        change?.Invoke(spec);
        return new PodInfo(new V1Pod { Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "d" }, Spec = spec });
    }

    [Fact]
    public void Requests_SumContainers_LimitWithoutRequestCounts_InitContainersTakeTheMax()
    {
        var pod = Pod(s => s.InitContainers = [new V1Container { Name = "i", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2") } } }], ("a", "250m", null), ("b", "", "500m"));
        Assert.Equal(2000, pod.Requests.MilliCpu);
        Assert.Equal(750, Pod(null, ("a", "250m", null), ("b", "", "500m")).Requests.MilliCpu);
    }

    [Fact]
    public void NodeResourcesFit_CountsWhatIsAlreadyThere()
    {
        var node = Node(cpu: "1");
        var fit = new NodeResourcesFit();
        Assert.Null(fit.Filter(Pod(null, ("a", "600m", null)), node));
        node.Add(Pod(null, ("a", "600m", null)));
        Assert.Equal("Insufficient cpu", fit.Filter(Pod(null, ("a", "600m", null)), node));
        Assert.True(fit.Score(Pod(null, ("a", "100m", null)), Node(cpu: "8")) > fit.Score(Pod(null, ("a", "100m", null)), node), "LeastAllocated prefers the emptier node");
    }

    [Theory]
    [InlineData("Equal", "infra", "NoSchedule", true)]
    [InlineData("Equal", "other", "NoSchedule", false)]
    [InlineData("Exists", null, null, true)]
    [InlineData("Exists", null, "NoExecute", false)]
    public void Tolerations_MatchLikeKubernetes(string op, string? value, string? effect, bool tolerated) =>
        Assert.Equal(tolerated, Tolerations.Tolerates(new V1Toleration { Key = "dedicated", OperatorProperty = op, Value = value, Effect = effect }, new V1Taint { Key = "dedicated", Value = "infra", Effect = "NoSchedule" }));

    [Fact]
    public void NodeAffinity_RequiredTermsAndGtLt()
    {
        var node = Node(labels: new Dictionary<string, string> { ["zone"] = "a", ["gen"] = "5" });
        var affinity = new NodeAffinity();
        PodInfo With(params V1NodeSelectorRequirement[] expressions) => Pod(s => s.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = expressions }] } },
        });
        Assert.Null(affinity.Filter(With(new V1NodeSelectorRequirement { Key = "zone", OperatorProperty = "In", Values = ["a", "b"] }, new V1NodeSelectorRequirement { Key = "gen", OperatorProperty = "Gt", Values = ["4"] }), node));
        Assert.NotNull(affinity.Filter(With(new V1NodeSelectorRequirement { Key = "gen", OperatorProperty = "Lt", Values = ["4"] }), node));
        Assert.NotNull(affinity.Filter(With(new V1NodeSelectorRequirement { Key = "zone", OperatorProperty = "DoesNotExist" }), node));
    }

    [Fact]
    public void NodePorts_ConflictOnTheSamePortAndProtocol()
    {
        PodInfo WithPort(int port, string protocol = "TCP") => Pod(s => s.Containers = [new V1Container { Name = "c", Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = port, Protocol = protocol }] }]);
        var node = Node();
        node.Add(WithPort(8080));
        var ports = new NodePorts();
        Assert.NotNull(ports.Filter(WithPort(8080), node));
        Assert.Null(ports.Filter(WithPort(8080, "UDP"), node));
        Assert.Null(ports.Filter(WithPort(9090), node));
    }

    [Fact]
    public void FitError_CountsReasonsInOrder()
    {
        var message = FitError.Message(3, new Dictionary<string, string> { ["a"] = "Insufficient cpu", ["b"] = "Insufficient cpu", ["c"] = "node(s) were unschedulable" });
        Assert.Equal("0/3 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 2 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.", message);
        Assert.Equal("no nodes available to schedule pods", FitError.Message(0, new Dictionary<string, string>()));
    }
}
