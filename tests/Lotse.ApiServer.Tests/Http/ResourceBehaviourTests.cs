using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

public sealed class ResourceBehaviourTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Fact]
    public async Task Bootstrap_CreatesSystemNamespacesAndKubernetesService()
    {
        using var client = server.Client();
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            var obj = await ApiServerFixture.ReadAsync(await client.GetAsync($"/api/v1/namespaces/{ns}"));
            Assert.Equal("Active", obj["status"]!["phase"]!.GetValue<string>());
        }

        var service = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/services/kubernetes"));
        Assert.Equal("10.43.0.1", service["spec"]!["clusterIP"]!.GetValue<string>());
        var endpoints = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/endpoints/kubernetes"));
        Assert.Equal("10.0.0.1", endpoints["subsets"]![0]!["addresses"]![0]!["ip"]!.GetValue<string>());
    }

    [Fact]
    public async Task Services_ConcurrentCreates_GetDistinctClusterIpsAndNodePorts()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"svc-ips"}}"""));
        var tasks = Enumerable.Range(0, 24).Select(async i =>
        {
            var response = await client.PostAsync("/api/v1/namespaces/svc-ips/services", ApiServerFixture.Json($$$"""{"metadata":{"name":"s{{{i}}}"},"spec":{"type":"NodePort","selector":{"app":"a"},"ports":[{"port":80}]}}"""));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var spec = (await ApiServerFixture.ReadAsync(response))["spec"]!;
            return (Ip: spec["clusterIP"]!.GetValue<string>(), Port: spec["ports"]![0]!["nodePort"]!.GetValue<long>());
        });
        var results = await Task.WhenAll(tasks);
        Assert.Equal(results.Length, results.Select(r => r.Ip).Distinct().Count());
        Assert.Equal(results.Length, results.Select(r => r.Port).Distinct().Count());
        Assert.All(results, r => Assert.StartsWith("10.43.", r.Ip, StringComparison.Ordinal));
        Assert.All(results, r => Assert.InRange(r.Port, 30000, 32767));
    }

    [Fact]
    public async Task Services_RequestedClusterIpTaken_Is422AndReleasedOnDelete()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"svc-fixed"}}"""));
        const string body = """{"metadata":{"name":"NAME"},"spec":{"clusterIP":"10.43.200.7","ports":[{"port":80}]}}""";
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces/svc-fixed/services", ApiServerFixture.Json(body.Replace("NAME", "one", StringComparison.Ordinal)))).StatusCode);
        var taken = await client.PostAsync("/api/v1/namespaces/svc-fixed/services", ApiServerFixture.Json(body.Replace("NAME", "two", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, taken.StatusCode);
        Assert.Contains("provided IP is already allocated", (await ApiServerFixture.ReadAsync(taken))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await client.DeleteAsync("/api/v1/namespaces/svc-fixed/services/one");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces/svc-fixed/services", ApiServerFixture.Json(body.Replace("NAME", "two", StringComparison.Ordinal)))).StatusCode);
    }

    [Fact]
    public async Task Pods_ProbesGetKubesDefaults()
    {
        using var client = server.Client();
        var created = await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"probed"},"spec":{"containers":[{"name":"a","image":"x","livenessProbe":{"httpGet":{"port":80}},"readinessProbe":{"exec":{"command":["true"]},"periodSeconds":2}}]}}"""));
        var container = (await ApiServerFixture.ReadAsync(created))["spec"]!["containers"]![0]!;
        var liveness = container["livenessProbe"]!;
        Assert.Equal((1, 10, 1, 3), (liveness["timeoutSeconds"]!.GetValue<int>(), liveness["periodSeconds"]!.GetValue<int>(), liveness["successThreshold"]!.GetValue<int>(), liveness["failureThreshold"]!.GetValue<int>()));
        Assert.Equal("/", liveness["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("HTTP", liveness["httpGet"]!["scheme"]!.GetValue<string>());
        Assert.Equal(2, container["readinessProbe"]!["periodSeconds"]!.GetValue<int>());
    }

    [Fact]
    public async Task PodLog_ChecksTheContainerAndTheNodeInKubesWords()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"log-two"},"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"x"}]}}"""));
        var unnamed = await client.GetAsync("/api/v1/namespaces/default/pods/log-two/log");
        Assert.Equal(HttpStatusCode.BadRequest, unnamed.StatusCode);
        Assert.Equal("a container name must be specified for pod log-two, choose one of: [a b]", (await ApiServerFixture.ReadAsync(unnamed))["message"]!.GetValue<string>());
        var wrong = await client.GetAsync("/api/v1/namespaces/default/pods/log-two/log?container=c");
        Assert.Equal("container c is not valid for pod log-two", (await ApiServerFixture.ReadAsync(wrong))["message"]!.GetValue<string>());
        var unbound = await client.GetAsync("/api/v1/namespaces/default/pods/log-two/log?container=a");
        Assert.Equal(HttpStatusCode.BadRequest, unbound.StatusCode);
        Assert.Equal("pod log-two does not have a host assigned", (await ApiServerFixture.ReadAsync(unbound))["message"]!.GetValue<string>());

        await client.PostAsync("/api/v1/nodes", ApiServerFixture.Json("""{"metadata":{"name":"log-node"}}"""));
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"log-one"},"spec":{"nodeName":"log-node","containers":[{"name":"a","image":"x"}]}}"""));
        var unreachable = await client.GetAsync("/api/v1/namespaces/default/pods/log-one/log");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unreachable.StatusCode);
        Assert.Equal("Status", (await ApiServerFixture.ReadAsync(unreachable))["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secret_StringData_IsEncodedIntoDataAndNotStored()
    {
        using var client = server.Client();
        var created = await client.PostAsync("/api/v1/namespaces/default/secrets", ApiServerFixture.Json("""{"metadata":{"name":"string-data"},"data":{"a":"eA==","b":"eQ=="},"stringData":{"b":"two","c":"three"}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/secrets/string-data"));
        Assert.Null(secret["stringData"]);
        Assert.Equal("eA==", secret["data"]!["a"]!.GetValue<string>());
        Assert.Equal("dHdv", secret["data"]!["b"]!.GetValue<string>());
        Assert.Equal("dGhyZWU=", secret["data"]!["c"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deployment_SpecChangeBumpsGeneration_StatusChangeDoesNot()
    {
        using var client = server.Client();
        const string url = "/apis/apps/v1/namespaces/default/deployments";
        var created = await ApiServerFixture.ReadAsync(await client.PostAsync(url, ApiServerFixture.Json("""{"metadata":{"name":"gen"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"gen"}},"template":{"metadata":{"labels":{"app":"gen"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}""")));
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<long>());
        created["spec"]!["replicas"] = 3;
        var updated = await ApiServerFixture.ReadAsync(await client.PutAsync($"{url}/gen", ApiServerFixture.Json(created.ToJsonString())));
        Assert.Equal(2, updated["metadata"]!["generation"]!.GetValue<long>());
        updated["status"] = new JsonObject { ["replicas"] = 3, ["observedGeneration"] = 2 };
        var status = await ApiServerFixture.ReadAsync(await client.PutAsync($"{url}/gen/status", ApiServerFixture.Json(updated.ToJsonString())));
        Assert.Equal(2, status["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(3, status["status"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public async Task StatusPatch_OnAnObjectWithoutStatus_SetsIt()
    {
        using var client = server.Client();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/nodes", ApiServerFixture.Json("""{"metadata":{"name":"bare-node"}}"""))).StatusCode);
        var patch = new StringContent("""{"status":{"allocatable":{"cpu":"2"}}}""", System.Text.Encoding.UTF8, "application/merge-patch+json");
        var patched = await ApiServerFixture.ReadAsync(await client.PatchAsync("/api/v1/nodes/bare-node/status", patch));
        Assert.Equal("2", patched["status"]!["allocatable"]!["cpu"]!.GetValue<string>());
        var read = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/nodes/bare-node"));
        Assert.Equal("2", read["status"]!["allocatable"]!["cpu"]!.GetValue<string>());
    }

    [Fact]
    public async Task Scale_GetAndPatch_ChangeReplicas()
    {
        using var client = server.Client();
        const string url = "/apis/apps/v1/namespaces/default/deployments";
        await client.PostAsync(url, ApiServerFixture.Json("""{"metadata":{"name":"scaled"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"s"}},"template":{"metadata":{"labels":{"app":"s"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"""));
        var scale = await ApiServerFixture.ReadAsync(await client.GetAsync($"{url}/scaled/scale"));
        Assert.Equal("Scale", scale["kind"]!.GetValue<string>());
        Assert.Equal(1, scale["spec"]!["replicas"]!.GetValue<long>());
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"{url}/scaled/scale") { Content = ApiServerFixture.Json("""{"spec":{"replicas":4}}""", "application/merge-patch+json") };
        var patched = await client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var deployment = await ApiServerFixture.ReadAsync(await client.GetAsync($"{url}/scaled"));
        Assert.Equal(4, deployment["spec"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public async Task Pods_TableOutput_HasKubectlColumns()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"tab"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"""));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
        var response = await client.SendAsync(request);
        var table = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("Table", table["kind"]!.GetValue<string>());
        var columns = table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"], columns);
        var row = table["rows"]!.AsArray().Single(r => r!["cells"]![0]!.GetValue<string>() == "tab")!;
        Assert.Equal("0/1", row["cells"]![1]!.GetValue<string>());
        Assert.Equal("Pending", row["cells"]![2]!.GetValue<string>());
        Assert.Equal("PartialObjectMetadata", row["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pods_Binding_SetsNodeNameAndScheduledCondition()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"bind-me"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"""));
        var response = await client.PostAsync("/api/v1/namespaces/default/pods/bind-me/binding", ApiServerFixture.Json("""{"apiVersion":"v1","kind":"Binding","metadata":{"name":"bind-me"},"target":{"kind":"Node","name":"node-1"}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pod = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/pods/bind-me"));
        Assert.Equal("node-1", pod["spec"]!["nodeName"]!.GetValue<string>());
        Assert.Contains(pod["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "PodScheduled" && c["status"]!.GetValue<string>() == "True");
        var again = await client.PostAsync("/api/v1/namespaces/default/pods/bind-me/binding", ApiServerFixture.Json("""{"target":{"name":"node-2"}}"""));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Pods_OnNode_DeleteIsGraceful_UnboundPodsGoAtOnce()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"unbound"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"""));
        await client.DeleteAsync("/api/v1/namespaces/default/pods/unbound");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/default/pods/unbound")).StatusCode);

        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"bound"},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"busybox"}]}}"""));
        var pending = await ApiServerFixture.ReadAsync(await client.DeleteAsync("/api/v1/namespaces/default/pods/bound"));
        Assert.Equal(30, pending["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/namespaces/default/pods/bound")).StatusCode);
        await client.DeleteAsync("/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/default/pods/bound")).StatusCode);
    }

    [Fact]
    public async Task Namespace_Delete_IsTerminatingAndBlocksNewContent()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"going"}}"""));
        var deleting = await ApiServerFixture.ReadAsync(await client.DeleteAsync("/api/v1/namespaces/going"));
        Assert.Equal("Terminating", deleting["status"]!["phase"]!.GetValue<string>());
        var blocked = await client.PostAsync("/api/v1/namespaces/going/configmaps", ApiServerFixture.Json("""{"metadata":{"name":"late"}}"""));
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Contains("because it is being terminated", (await ApiServerFixture.ReadAsync(blocked))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // The namespace controller's last step: finalize removes the "kubernetes" finalizer, and the namespace goes.
        var finalize = await client.PutAsync("/api/v1/namespaces/going/finalize", ApiServerFixture.Json("""{"metadata":{"name":"going"},"spec":{"finalizers":[]}}"""));
        Assert.Equal(HttpStatusCode.OK, finalize.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/going")).StatusCode);
    }
}
