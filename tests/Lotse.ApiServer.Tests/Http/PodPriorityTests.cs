using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>The Priority admission on pod creation, against the real API server in-process.</summary>
public sealed class PodPriorityTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Pods = "/api/v1/namespaces/default/pods";
    private const string Classes = "/apis/scheduling.k8s.io/v1/priorityclasses";

    private static StringContent Pod(string name, string? className = null, int? priority = null) => ApiServerFixture.Json(new JsonObject
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["priorityClassName"] = className,
            ["priority"] = priority,
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }),
        },
    }.ToJsonString());

    [Fact]
    public async Task TheSystemClassesExist_AndANamedClassSetsPriorityAndPolicy()
    {
        using var client = server.Client();
        var critical = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Classes}/system-node-critical"));
        Assert.Equal(2000001000, critical["value"]!.GetValue<long>());
        Assert.Equal(2000000000, (await ApiServerFixture.ReadAsync(await client.GetAsync($"{Classes}/system-cluster-critical")))["value"]!.GetValue<long>());

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(Classes, ApiServerFixture.Json("""{"metadata":{"name":"batch-low"},"value":-5,"preemptionPolicy":"Never"}"""))).StatusCode);
        var pod = await ApiServerFixture.ReadAsync(await client.PostAsync(Pods, Pod("classed", "batch-low")));
        Assert.Equal(-5, pod["spec"]!["priority"]!.GetValue<long>());
        Assert.Equal("Never", pod["spec"]!["preemptionPolicy"]!.GetValue<string>());

        var critical2 = await ApiServerFixture.ReadAsync(await client.PostAsync(Pods, Pod("critical", "system-cluster-critical")));
        Assert.Equal(2000000000, critical2["spec"]!["priority"]!.GetValue<long>());
        Assert.Equal("PreemptLowerPriority", critical2["spec"]!["preemptionPolicy"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownClass_OrAPriorityThatDisagrees_IsForbidden_AndNothingIsStored()
    {
        using var client = server.Client();
        var unknown = await client.PostAsync(Pods, Pod("lost", "nope"));
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Equal("pods \"lost\" is forbidden: no PriorityClass with name nope was found", (await ApiServerFixture.ReadAsync(unknown))["message"]!.GetValue<string>());

        var disagree = await client.PostAsync(Pods, Pod("liar", "system-cluster-critical", priority: 7));
        Assert.Equal(HttpStatusCode.Forbidden, disagree.StatusCode);
        Assert.Equal(
            "pods \"liar\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 2000000000 from the given PriorityClass name",
            (await ApiServerFixture.ReadAsync(disagree))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Pods}/lost")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Pods}/liar")).StatusCode);

        // The same priority the class gives is fine.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(Pods, Pod("honest", "system-cluster-critical", priority: 2000000000))).StatusCode);
    }

    [Fact]
    public async Task WithoutAName_TheGlobalDefaultApplies_ElseZero()
    {
        using var client = server.Client();
        var plain = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/kube-public/pods", Pod("plain")));
        Assert.Equal(0, plain["spec"]!["priority"]!.GetValue<long>());
        Assert.Null(plain["spec"]!["priorityClassName"]);

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(Classes, ApiServerFixture.Json("""{"metadata":{"name":"everyone"},"value":100,"globalDefault":true}"""))).StatusCode);
        // Admission reads classes from the watch cache, which follows the write within moments.
        JsonObject defaulted;
        var attempt = 0;
        do
        {
            await Task.Delay(50);
            defaulted = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/kube-public/pods", Pod($"defaulted-{attempt++}")));
        }
        while (defaulted["spec"]!["priority"]!.GetValue<long>() == 0 && attempt < 100);

        Assert.Equal(100, defaulted["spec"]!["priority"]!.GetValue<long>());
        Assert.Equal("everyone", defaulted["spec"]!["priorityClassName"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"{Classes}/everyone")).StatusCode);
    }
}
