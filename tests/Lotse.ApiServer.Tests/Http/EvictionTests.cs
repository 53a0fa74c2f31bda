using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>pods/eviction against the real API server in-process: budgets are honoured, refused evictions change nothing.</summary>
public sealed class EvictionTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Pods = "/api/v1/namespaces/default/pods";
    private const string Budgets = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";

    [Fact]
    public async Task APodNoBudgetCovers_IsDeleted()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "free", "solo");
        var response = await EvictAsync(client, "free");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("Success", status["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Pods}/free")).StatusCode);
    }

    [Fact]
    public async Task ABudgetWithNoDisruptionsLeft_RefusesWith429_AndNothingChanges()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "guarded", "tight");
        await CreateBudgetAsync(client, "tight-pdb", "tight", allowed: 0, current: 1, desired: 1);

        var response = await EvictAsync(client, "guarded");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("TooManyRequests", status["reason"]!.GetValue<string>());
        Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", status["message"]!.GetValue<string>());
        var cause = status["details"]!["causes"]![0]!;
        Assert.Equal("DisruptionBudget", cause["reason"]!.GetValue<string>());
        Assert.Equal("The disruption budget tight-pdb needs 1 healthy pods and has 1 currently", cause["message"]!.GetValue<string>());

        var pod = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Pods}/guarded"));
        Assert.Null(pod["metadata"]!["deletionTimestamp"]);
        Assert.DoesNotContain(pod["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "DisruptionTarget");
    }

    [Fact]
    public async Task ABudgetThatAllowsADisruption_IsChargedForIt_AndThePodIsMarkedAndDeleted()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "spare-0", "spare", node: "n1");
        await CreateBudgetAsync(client, "spare-pdb", "spare", allowed: 1, current: 2, desired: 1);

        Assert.Equal(HttpStatusCode.Created, (await EvictAsync(client, "spare-0")).StatusCode);

        var budget = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Budgets}/spare-pdb"));
        Assert.Equal(0, budget["status"]!["disruptionsAllowed"]!.GetValue<int>());
        Assert.NotNull(budget["status"]!["disruptedPods"]!["spare-0"]);

        // A pod on a node is deleted gracefully: it is still there, terminating, with kube's condition.
        var pod = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Pods}/spare-0"));
        Assert.NotNull(pod["metadata"]!["deletionTimestamp"]);
        var condition = pod["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "DisruptionTarget")!;
        Assert.Equal("EvictionByEvictionAPI", condition["reason"]!.GetValue<string>());

        // The budget is spent: the next pod it covers stays.
        await CreateRunningPodAsync(client, "spare-1", "spare");
        Assert.Equal((HttpStatusCode)429, (await EvictAsync(client, "spare-1")).StatusCode);
    }

    [Fact]
    public async Task DryRun_ChecksTheBudget_ButChangesNothing()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "dry", "dry");
        await CreateBudgetAsync(client, "dry-pdb", "dry", allowed: 1, current: 1, desired: 0);

        var response = await client.PostAsync($"{Pods}/dry/eviction?dryRun=All", ApiServerFixture.Json(Eviction("dry")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Pods}/dry")).StatusCode);
        var budget = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Budgets}/dry-pdb"));
        Assert.Equal(1, budget["status"]!["disruptionsAllowed"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnUnreadyPod_MayGoWhileTheBudgetIsHealthy()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "sick", "sick", ready: false);
        await CreateBudgetAsync(client, "sick-pdb", "sick", allowed: 0, current: 2, desired: 2);

        Assert.Equal(HttpStatusCode.Created, (await EvictAsync(client, "sick")).StatusCode);
        var budget = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Budgets}/sick-pdb"));
        Assert.Null(budget["status"]!["disruptedPods"]);
    }

    [Fact]
    public async Task ABudgetTheControllerHasNotSeen_RefusesUntilItHas()
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "early", "early");
        await client.PostAsync(Budgets, ApiServerFixture.Json("""{"metadata":{"name":"early-pdb"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"early"}}}}"""));
        var response = await EvictAsync(client, "early");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("The disruption budget early-pdb is still being processed by the server.",
            (await ApiServerFixture.ReadAsync(response))["details"]!["causes"]![0]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("missing", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"missing"}}""", 404, "pods \"missing\" not found")]
    [InlineData("named", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}""", 400, "name in URL does not match name in Eviction object")]
    [InlineData("named", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":""", 400, "")]
    public async Task BadEvictions_AreStatusErrors(string pod, string body, int code, string message)
    {
        using var client = server.Client();
        await CreateRunningPodAsync(client, "named", "named");
        var response = await client.PostAsync($"{Pods}/{pod}/eviction", ApiServerFixture.Json(body));
        Assert.Equal(code, (int)response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Contains(message, status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Pods}/named")).StatusCode);
    }

    [Theory]
    [InlineData("""{"minAvailable":1,"maxUnavailable":1}""", "spec: Invalid value:", "minAvailable and maxUnavailable cannot be both set")]
    [InlineData("""{"minAvailable":-1}""", "spec.minAvailable: Invalid value: -1", "must be greater than or equal to 0")]
    [InlineData("""{"maxUnavailable":"ten"}""", "spec.maxUnavailable: Invalid value: \"ten\"", "a valid percent string must be a numeric string followed by an ending '%'")]
    [InlineData("""{"maxUnavailable":"150%"}""", "spec.maxUnavailable: Invalid value: \"150%\"", "must not be greater than 100%")]
    [InlineData("""{"minAvailable":1,"unhealthyPodEvictionPolicy":"Sometimes"}""", "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Sometimes\"", "supported values")]
    public async Task InvalidBudgets_AreRejectedWithKubesWords(string spec, string field, string detail)
    {
        using var client = server.Client();
        var response = await client.PostAsync(Budgets, ApiServerFixture.Json($$"""{"metadata":{"name":"bad"},"spec":{{spec}} }"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>();
        Assert.Contains(field, message, StringComparison.Ordinal);
        Assert.Contains(detail, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANewBudget_StartsWithAnEmptyStatusAndGenerationOne()
    {
        using var client = server.Client();
        var created = await ApiServerFixture.ReadAsync(await client.PostAsync(Budgets, ApiServerFixture.Json("""{"metadata":{"name":"fresh"},"spec":{"maxUnavailable":"25%","selector":{"matchLabels":{"app":"fresh"}}},"status":{"disruptionsAllowed":9}}""")));
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal(0, created["status"]!["disruptionsAllowed"]!.GetValue<int>());
        Assert.Equal(0, created["status"]!["expectedPods"]!.GetValue<int>());
    }

    private static Task<HttpResponseMessage> EvictAsync(HttpClient client, string pod) =>
        client.PostAsync($"{Pods}/{pod}/eviction", ApiServerFixture.Json(Eviction(pod)));

    private static string Eviction(string pod) => $$$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{{pod}}}","namespace":"default"}}""";

    private static async Task CreateRunningPodAsync(HttpClient client, string name, string app, string? node = null, bool ready = true)
    {
        var nodeName = node is null ? string.Empty : $$$""","nodeName":"{{{node}}}" """;
        var created = await client.PostAsync(Pods, ApiServerFixture.Json(
            $$$"""{"metadata":{"name":"{{{name}}}","labels":{"app":"{{{app}}}"}},"spec":{"containers":[{"name":"c","image":"busybox"}]{{{nodeName}}}}}"""));
        if (created.StatusCode == HttpStatusCode.Conflict)
        {
            return; // the theory's pods are shared between cases
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var pod = await ApiServerFixture.ReadAsync(created);
        pod["status"] = JsonNode.Parse($$$"""{"phase":"Running","conditions":[{"type":"Ready","status":"{{{(ready ? "True" : "False")}}}"}]}""");
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"{Pods}/{name}/status", ApiServerFixture.Json(pod.ToJsonString()))).StatusCode);
    }

    /// <summary>A budget with the status the disruption controller would have written.</summary>
    private static async Task CreateBudgetAsync(HttpClient client, string name, string app, int allowed, int current, int desired)
    {
        var spec = $$"""{"minAvailable":{{desired}},"selector":{"matchLabels":{"app":"{{app}}"} } }""";
        var created = await client.PostAsync(Budgets, ApiServerFixture.Json($$"""{"metadata":{"name":"{{name}}"},"spec":{{spec}} }"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var budget = await ApiServerFixture.ReadAsync(created);
        budget["status"] = JsonNode.Parse($$$"""{"observedGeneration":1,"disruptionsAllowed":{{{allowed}}},"currentHealthy":{{{current}}},"desiredHealthy":{{{desired}}},"expectedPods":{{{current}}}}""");
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"{Budgets}/{name}/status", ApiServerFixture.Json(budget.ToJsonString()))).StatusCode);
    }
}
