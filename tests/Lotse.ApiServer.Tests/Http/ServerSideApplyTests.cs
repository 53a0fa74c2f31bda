using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Lotse.ApiServer.Tests.Http;

public sealed class ServerSideApplyTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    private static string Deployment(string name, int replicas, string image = "nginx:1.27", string? extraLabel = null) => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{name}}
          labels: {app: {{name}}{{(extraLabel is null ? string.Empty : $", {extraLabel}: \"yes\"")}} }
        spec:
          replicas: {{replicas}}
          selector: {matchLabels: {app: {{name}} } }
          template:
            metadata: {labels: {app: {{name}} } }
            spec:
              containers:
              - name: web
                image: {{image}}
        """;

    private static Task<HttpResponseMessage> ApplyAsync(HttpClient client, string name, string body, string manager = "tester", bool force = false) =>
        client.PatchAsync($"{Deployments}/{name}?fieldManager={manager}{(force ? "&force=true" : string.Empty)}", ApiServerFixture.Json(body, "application/apply-patch+yaml"));

    private static JsonArray Managers(JsonObject obj) => obj["metadata"]!["managedFields"]!.AsArray();

    [Fact]
    public async Task Apply_CreatesThenChangesNothing_AndRecordsTheManagersFields()
    {
        using var client = server.Client();
        var created = await ApplyAsync(client, "ssa-first", Deployment("ssa-first", 2));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = await ApiServerFixture.ReadAsync(created);
        var entry = Managers(first).Single()!;
        Assert.Equal(("tester", "Apply", "apps/v1", "FieldsV1"), (entry["manager"]!.GetValue<string>(), entry["operation"]!.GetValue<string>(), entry["apiVersion"]!.GetValue<string>(), entry["fieldsType"]!.GetValue<string>()));
        var fields = entry["fieldsV1"]!;
        Assert.NotNull(fields["f:spec"]!["f:replicas"]);
        Assert.NotNull(fields["f:metadata"]!["f:labels"]!["f:app"]);
        Assert.NotNull(fields["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"web\"}"]!["f:image"]);
        Assert.NotNull(fields["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"web\"}"]!["."]);

        var again = await ApiServerFixture.ReadAsync(await ApplyAsync(client, "ssa-first", Deployment("ssa-first", 2)));
        Assert.Equal(first["metadata"]!["resourceVersion"]!.GetValue<string>(), again["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task FieldsAManagerStopsApplying_AreRemoved_UnlessSomeoneElseOwnsThem()
    {
        using var client = server.Client();
        await ApplyAsync(client, "ssa-remove", Deployment("ssa-remove", 1, extraLabel: "tier"));
        var applied = await ApiServerFixture.ReadAsync(await ApplyAsync(client, "ssa-remove", Deployment("ssa-remove", 1)));
        Assert.Null(applied["metadata"]!["labels"]!["tier"]);
        Assert.Equal("ssa-remove", applied["metadata"]!["labels"]!["app"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnotherManagersChange_Conflicts_UntilForced()
    {
        using var client = server.Client();
        await ApplyAsync(client, "ssa-conflict", Deployment("ssa-conflict", 2));
        var scaled = await client.PatchAsync($"{Deployments}/ssa-conflict/scale?fieldManager=scaler", ApiServerFixture.Json("""{"spec":{"replicas":5}}""", "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, scaled.StatusCode);

        var refused = await ApplyAsync(client, "ssa-conflict", Deployment("ssa-conflict", 3));
        Assert.True(refused.StatusCode == HttpStatusCode.Conflict, (await client.GetStringAsync($"{Deployments}/ssa-conflict")) + await refused.Content.ReadAsStringAsync());
        var status = await ApiServerFixture.ReadAsync(refused);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"scaler\" with subresource \"scale\" using apps/v1: .spec.replicas", status["message"]!.GetValue<string>());
        var cause = status["details"]!["causes"]![0]!;
        Assert.Equal(("FieldManagerConflict", ".spec.replicas", "conflict with \"scaler\" with subresource \"scale\" using apps/v1"), (cause["reason"]!.GetValue<string>(), cause["field"]!.GetValue<string>(), cause["message"]!.GetValue<string>()));
        Assert.Equal(5, (await ApiServerFixture.ReadAsync(await client.GetAsync($"{Deployments}/ssa-conflict")))["spec"]!["replicas"]!.GetValue<int>());

        // The same value is shared, not contested; force takes the field over.
        Assert.Equal(HttpStatusCode.OK, (await ApplyAsync(client, "ssa-conflict", Deployment("ssa-conflict", 5))).StatusCode);
        var forced = await ApiServerFixture.ReadAsync(await ApplyAsync(client, "ssa-conflict", Deployment("ssa-conflict", 3), force: true));
        Assert.Equal(3, forced["spec"]!["replicas"]!.GetValue<int>());
        Assert.DoesNotContain(Managers(forced), m => m!["manager"]!.GetValue<string>() == "scaler" && m["fieldsV1"]!["f:spec"]?["f:replicas"] is not null);
    }

    [Theory]
    [InlineData("", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", 422, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")]
    [InlineData("?fieldManager=t", "apiVersion: v1\nkind: Deployment\nmetadata: {name: x}\n", 400, "the API version in the data (v1) does not match the expected API version (apps/v1)")]
    [InlineData("?fieldManager=t", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: x}\n", 400, "the kind in the data (ReplicaSet) does not match the expected kind (Deployment)")]
    [InlineData("?fieldManager=t", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [\n", 400, "yaml parse error")]
    public async Task BadApplies_AreRefused_AndNothingIsWritten(string query, string body, int code, string message)
    {
        using var client = server.Client();
        var response = await client.PatchAsync($"{Deployments}/x{query}", ApiServerFixture.Json(body, "application/apply-patch+yaml"));
        Assert.Equal(code, (int)response.StatusCode);
        Assert.Contains(message, (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Deployments}/x")).StatusCode);
    }

    [Fact]
    public async Task ForceOnAnotherPatchType_IsInvalidPatchOptions()
    {
        using var client = server.Client();
        var response = await client.PatchAsync($"{Deployments}/y?force=true", ApiServerFixture.Json("{}", "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheOfficialClient_AppliesThroughApplyPatch()
    {
        using var client = server.Kubernetes();
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = "ssa-client" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "c" } },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "c" } }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox" }] } },
            },
        };
        var applied = await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deployment, V1Patch.PatchType.ApplyPatch), "ssa-client", "default", fieldManager: "csharp", force: true);
        Assert.Equal("csharp", applied.Metadata.ManagedFields.Single().Manager);
        Assert.Equal(1, applied.Spec.Replicas);
    }

    [Fact]
    public async Task Create_RecordsTheCreatorsFields_AndAnApplyOfAnotherValueConflictsWithIt()
    {
        using var client = server.Client();
        var body = Lotse.ApiServer.Http.YamlJson.Parse(Deployment("ssa-created", 2))!.ToJsonString();
        var created = await client.PostAsync($"{Deployments}?fieldManager=kubectl-create", ApiServerFixture.Json(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var entry = Managers(await ApiServerFixture.ReadAsync(created)).Single()!;
        Assert.Equal(("kubectl-create", "Update", "apps/v1"), (entry["manager"]!.GetValue<string>(), entry["operation"]!.GetValue<string>(), entry["apiVersion"]!.GetValue<string>()));
        Assert.NotNull(entry["time"]);
        Assert.NotNull(entry["fieldsV1"]!["f:spec"]!["f:replicas"]);
        Assert.NotNull(entry["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"web\"}"]!["f:image"]);
        Assert.Null(entry["fieldsV1"]!["f:status"]);

        var refused = await ApplyAsync(client, "ssa-created", Deployment("ssa-created", 3));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas", (await ApiServerFixture.ReadAsync(refused))["message"]!.GetValue<string>());

        // The same values are shared; the applier's entry comes first (kube sorts Apply before Update).
        var shared = await ApiServerFixture.ReadAsync(await ApplyAsync(client, "ssa-created", Deployment("ssa-created", 2)));
        Assert.Equal(["tester", "kubectl-create"], Managers(shared).Select(m => m!["manager"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Updates_TakeTheFieldsTheyChange_ThenAnApplyConflictsWithTheEditor()
    {
        using var client = server.Client();
        await ApplyAsync(client, "ssa-edited", Deployment("ssa-edited", 2));
        var current = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Deployments}/ssa-edited"));
        current["spec"]!["replicas"] = 4;
        var put = await client.PutAsync($"{Deployments}/ssa-edited?fieldManager=kubectl-edit", ApiServerFixture.Json(current.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var edited = await ApiServerFixture.ReadAsync(put);
        var editor = Managers(edited).Single(m => m!["manager"]!.GetValue<string>() == "kubectl-edit")!;
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", editor["fieldsV1"]!.ToJsonString());
        Assert.Null(Managers(edited).Single(m => m!["manager"]!.GetValue<string>() == "tester")!["fieldsV1"]!["f:spec"]!["f:replicas"]);

        var refused = await ApplyAsync(client, "ssa-edited", Deployment("ssa-edited", 2));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas", (await ApiServerFixture.ReadAsync(refused))["message"]!.GetValue<string>());

        // A status write is its own entry, with its subresource.
        var status = await client.PatchAsync($"{Deployments}/ssa-edited/status?fieldManager=kube-controller-manager", ApiServerFixture.Json("""{"status":{"observedGeneration":9}}""", "application/merge-patch+json"));
        var controller = Managers(await ApiServerFixture.ReadAsync(status)).Single(m => m!["manager"]!.GetValue<string>() == "kube-controller-manager")!;
        Assert.Equal(("status", """{"f:status":{"f:observedGeneration":{}}}"""), (controller["subresource"]!.GetValue<string>(), controller["fieldsV1"]!.ToJsonString()));
    }

    [Fact]
    public async Task WithoutFieldManager_TheUserAgentsProgramNames_TheManager()
    {
        using var client = server.Client();
        client.DefaultRequestHeaders.UserAgent.ParseAdd("kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef");
        var created = await client.PostAsync("/api/v1/namespaces/default/configmaps", ApiServerFixture.Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ua-manager"},"data":{"k":"v"}}"""));
        var entry = Managers(await ApiServerFixture.ReadAsync(created)).Single()!;
        Assert.Equal("kubectl", entry["manager"]!.GetValue<string>());
        Assert.Equal("""{"f:data":{".":{},"f:k":{}}}""", entry["fieldsV1"]!.ToJsonString());
    }

    [Theory]
    [InlineData("POST", "CreateOptions")]
    [InlineData("PUT", "UpdateOptions")]
    [InlineData("PATCH", "PatchOptions")]
    public async Task AFieldManagerPast128Bytes_Is422_AndNothingIsWritten(string method, string options)
    {
        using var client = server.Client();
        var name = "long-manager-" + method.ToLowerInvariant();
        var url = method == "POST" ? "/api/v1/namespaces/default/configmaps" : $"/api/v1/namespaces/default/configmaps/{name}";
        var body = $$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{name}}"},"data":{"k":"v"} }""";
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{url}?fieldManager={new string('m', 129)}")
        {
            Content = ApiServerFixture.Json(body, method == "PATCH" ? "application/merge-patch+json" : "application/json"),
        };
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal($"{options}.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/namespaces/default/configmaps/{name}")).StatusCode);
    }

    [Fact]
    public async Task AnUnprintableFieldManager_Is422_AtItsByteOffset()
    {
        using var client = server.Client();
        var response = await client.PostAsync("/api/v1/namespaces/default/configmaps?fieldManager=%C3%A9%09x", ApiServerFixture.Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tab-manager"}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("CreateOptions.meta.k8s.io \"\" is invalid: fieldManager[2]: Invalid value: \"\u00e9\\tx\": all characters must be printable", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
    }
}
