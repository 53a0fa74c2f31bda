using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Apiextensions;

public sealed class CustomResourceListTypeTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Definitions = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

    private const string Schema = """
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "routes":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
            "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"weight":{"type":"integer"}}}},
          "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "args":{"type":"array","items":{"type":"string"}},
          "replicas":{"type":"integer","default":1}}}}}
        """;

    private static string Definition(string group, string schema = Schema) => $$"""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"gateways.{{group}}"},
         "spec":{"group":"{{group}}","scope":"Namespaced",
           "names":{"plural":"gateways","singular":"gateway","kind":"Gateway"},
           "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{{schema}} } }] } }
        """;

    private async Task<HttpClient> EstablishedAsync(string group)
    {
        var client = server.Client();
        var created = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition(group)));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.GetAsync($"/apis/{group}/v1/namespaces/default/gateways")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "not served");
            await Task.Delay(50);
        }

        return client;
    }

    private static Task<HttpResponseMessage> ApplyAsync(HttpClient client, string group, string manager, string spec, bool force = false) =>
        client.PatchAsync(
            $"/apis/{group}/v1/namespaces/default/gateways/gw?fieldManager={manager}{(force ? "&force=true" : string.Empty)}",
            ApiServerFixture.Json($"apiVersion: {group}/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec: {spec}\n", "application/apply-patch+yaml"));

    private static JsonObject Entry(JsonObject obj, string manager) =>
        obj["metadata"]!["managedFields"]!.AsArray().Single(e => e!["manager"]!.GetValue<string>() == manager)!.AsObject();

    [Fact]
    public async Task Definition_WithABadListType_Is422_InKubesWords()
    {
        using var client = server.Client();
        var schema = """{"type":"object","properties":{"spec":{"type":"object","properties":{"l":{"type":"array","x-kubernetes-list-type":"map","items":{"type":"object","properties":{"name":{"type":"string"}}}}}}}}""";
        var response = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition("badlists.example.com", schema)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Contains(
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
            status["message"]!.GetValue<string>(),
            StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Definitions}/gateways.badlists.example.com")).StatusCode);
    }

    [Fact]
    public async Task Objects_WithRepeatedSetValuesOrMapKeys_Are422Duplicates()
    {
        using var client = await EstablishedAsync("dups.example.com");
        var response = await client.PostAsync("/apis/dups.example.com/v1/namespaces/default/gateways", ApiServerFixture.Json(
            """{"apiVersion":"dups.example.com/v1","kind":"Gateway","metadata":{"name":"d"},"spec":{"routes":[{"name":"a"},{"name":"a","weight":2}],"tags":["x","x"]}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        var message = status["message"]!.GetValue<string>();
        Assert.StartsWith("Gateway.dups.example.com \"d\" is invalid: [", message, StringComparison.Ordinal);
        Assert.Contains("spec.routes[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}", message, StringComparison.Ordinal);
        Assert.Contains("spec.tags[1]: Duplicate value: \"x\"", message, StringComparison.Ordinal);
        Assert.Contains(status["details"]!["causes"]!.AsArray(), c => c!["reason"]!.GetValue<string>() == "FieldValueDuplicate" && c["field"]!.GetValue<string>() == "spec.tags[1]");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/apis/dups.example.com/v1/namespaces/default/gateways/d")).StatusCode);
    }

    [Fact]
    public async Task Apply_TwoManagersOfAMapList_KeepBothItems_AndConflictOnTheSameItemsField()
    {
        const string Group = "ssa.example.com";
        using var client = await EstablishedAsync(Group);
        Assert.Equal(HttpStatusCode.Created, (await ApplyAsync(client, Group, "alpha", "{routes: [{name: a, weight: 1}], tags: [x], args: [one]}")).StatusCode);
        var both = await ApiServerFixture.ReadAsync(await ApplyAsync(client, Group, "beta", "{routes: [{name: b, weight: 2}], tags: [y]}"));
        Assert.Equal(["a", "b"], both["spec"]!["routes"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(["x", "y"], both["spec"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.NotNull(Entry(both, "alpha")["fieldsV1"]!["f:spec"]!["f:routes"]!["k:{\"name\":\"a\"}"]!["f:weight"]);
        Assert.NotNull(Entry(both, "beta")["fieldsV1"]!["f:spec"]!["f:tags"]!["v:\"y\""]);
        Assert.NotNull(Entry(both, "alpha")["fieldsV1"]!["f:spec"]!["f:args"]);

        var conflict = await ApplyAsync(client, Group, "beta", "{routes: [{name: a, weight: 7}]}");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var status = await ApiServerFixture.ReadAsync(conflict);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"alpha\": .spec.routes[name=\"a\"].weight", status["message"]!.GetValue<string>());
        Assert.Equal(".spec.routes[name=\"a\"].weight", status["details"]!["causes"]![0]!["field"]!.GetValue<string>());

        // An atomic list is owned whole: another manager's different list conflicts on the list itself.
        var atomic = await ApiServerFixture.ReadAsync(await ApplyAsync(client, Group, "beta", "{routes: [{name: b, weight: 2}], tags: [y], args: [two]}"));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"alpha\": .spec.args", atomic["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task StrategicMergePatch_OfACustomObject_Is415()
    {
        const string Group = "smp.example.com";
        using var client = await EstablishedAsync(Group);
        await ApplyAsync(client, Group, "alpha", "{tags: [x]}");
        var response = await client.PatchAsync($"/apis/{Group}/v1/namespaces/default/gateways/gw", ApiServerFixture.Json("""{"spec":{"tags":["y"]}}""", "application/strategic-merge-patch+json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_RecordsAnUpdateEntry_WithDefaultsButNotPrunedFields_AndApplyConflictsWithIt()
    {
        const string Group = "created.example.com";
        using var client = await EstablishedAsync(Group);
        var created = await client.PostAsync($"/apis/{Group}/v1/namespaces/default/gateways?fieldManager=kubectl-create", ApiServerFixture.Json(
            $$"""{"apiVersion":"{{Group}}/v1","kind":"Gateway","metadata":{"name":"gw","labels":{"app":"x"} },"spec":{"routes":[{"name":"a","weight":1}],"unknown":true} }"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var entry = Entry(await ApiServerFixture.ReadAsync(created), "kubectl-create");
        Assert.Equal(("Update", $"{Group}/v1", "FieldsV1"), (entry["operation"]!.GetValue<string>(), entry["apiVersion"]!.GetValue<string>(), entry["fieldsType"]!.GetValue<string>()));
        Assert.Equal(
            """{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:replicas":{},"f:routes":{".":{},"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:weight":{}}}}}""",
            entry["fieldsV1"]!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

        var conflict = await ApplyAsync(client, Group, "ssa", "{replicas: 3}");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal($"Apply failed with 1 conflict: conflict with \"kubectl-create\" using {Group}/v1: .spec.replicas", (await ApiServerFixture.ReadAsync(conflict))["message"]!.GetValue<string>());
    }
}
