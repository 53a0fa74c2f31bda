using System.Text.Json.Nodes;
using Lotse.ApiServer.Tables;

namespace Lotse.ApiServer.Tests.Tables;

public sealed class TableTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(150, "2m30s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 300, "3h5m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 7200, "3d2h")]
    [InlineData(40 * 86400, "40d")]
    [InlineData(800 * 86400, "2y70d")]
    public void HumanDuration_MatchesKubectl(int seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));

    private static object?[] PodCells(string json) =>
        BuiltInTables.For("", "v1", "Pod")!.Cells(JsonNode.Parse(json)!.AsObject(), Now);

    [Fact]
    public void Pod_Running_ShowsReadyAndIp()
    {
        var cells = PodCells("""{"metadata":{"name":"web","creationTimestamp":"2026-01-01T11:55:00Z"},"spec":{"nodeName":"n1","containers":[{"name":"c"}]},"status":{"phase":"Running","podIP":"10.42.0.5","containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}}""");
        Assert.Equal(["web", "1/1", "Running", "0", "5m", "10.42.0.5", "n1", "<none>", "<none>"], cells);
    }

    [Fact]
    public void Pod_CrashLoop_ShowsReasonAndRestartAge()
    {
        var cells = PodCells("""{"metadata":{"name":"bad","creationTimestamp":"2026-01-01T11:00:00Z"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running","containerStatuses":[{"name":"c","ready":false,"restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-01T11:59:30Z"}}}]}}""");
        Assert.Equal("CrashLoopBackOff", cells[2]);
        Assert.Equal("5 (30s ago)", cells[3]);
    }

    [Fact]
    public void Pod_InitAndTerminating()
    {
        Assert.Equal("Init:0/2", PodCells("""{"metadata":{"name":"i"},"spec":{"initContainers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"c"}]},"status":{"phase":"Pending","initContainerStatuses":[{"name":"a","state":{"waiting":{"reason":"PodInitializing"}}}]}}""")[2]);
        Assert.Equal("Terminating", PodCells("""{"metadata":{"name":"t","deletionTimestamp":"2026-01-01T12:00:00Z"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running"}}""")[2]);
    }

    [Fact]
    public void Service_NodePortAndLoadBalancerCells()
    {
        var table = BuiltInTables.For("", "v1", "Service")!;
        var nodePort = table.Cells(JsonNode.Parse("""{"metadata":{"name":"s"},"spec":{"type":"NodePort","clusterIP":"10.43.0.9","ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}""")!.AsObject(), Now);
        Assert.Equal(["s", "NodePort", "10.43.0.9", "<none>", "80:30080/TCP,53/UDP"], nodePort.Take(5));
        var lb = table.Cells(JsonNode.Parse("""{"metadata":{"name":"l"},"spec":{"type":"LoadBalancer","ports":[{"port":443}]}}""")!.AsObject(), Now);
        Assert.Equal("<pending>", lb[3]);
    }

    [Fact]
    public void Node_RolesAndSchedulingDisabled()
    {
        var cells = BuiltInTables.For("", "v1", "Node")!.Cells(JsonNode.Parse("""{"metadata":{"name":"n","labels":{"node-role.kubernetes.io/control-plane":"true","node-role.kubernetes.io/master":"true"}},"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.33.0+lotse"}}}""")!.AsObject(), Now);
        Assert.Equal("Ready,SchedulingDisabled", cells[1]);
        Assert.Equal("control-plane,master", cells[2]);
    }

    [Theory]
    [InlineData("", "Pod")]
    [InlineData("", "Service")]
    [InlineData("", "Node")]
    [InlineData("", "Event")]
    [InlineData("apps", "Deployment")]
    [InlineData("apps", "DaemonSet")]
    [InlineData("batch", "Job")]
    [InlineData("batch", "CronJob")]
    [InlineData("autoscaling", "HorizontalPodAutoscaler")]
    [InlineData("storage.k8s.io", "StorageClass")]
    public void EveryPrinter_HandlesABareObject(string group, string kind)
    {
        var table = BuiltInTables.For(group, "v1", kind)!;
        var cells = table.Cells(JsonNode.Parse("""{"metadata":{"name":"x"}}""")!.AsObject(), Now);
        Assert.Equal(table.Columns.Count, cells.Length);
    }
}
