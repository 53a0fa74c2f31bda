using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Apiextensions;

/// <summary>x-kubernetes-validations through the API: the definition refused, objects refused on create, update and status.</summary>
public sealed class CelValidationRuleServerTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Definitions = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

    private static string Definition(string group, string specRule) => $$"""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"widgets.{{group}}"},
         "spec":{"group":"{{group}}","scope":"Namespaced",
           "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
           "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{} },
             "schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","x-kubernetes-validations":[{{specRule}}],
                 "properties":{"replicas":{"type":"integer"},"maxReplicas":{"type":"integer"},"name":{"type":"string"} } },
               "status":{"type":"object","properties":{"ready":{"type":"integer"} },
                 "x-kubernetes-validations":[{"rule":"self.ready >= 0","message":"ready cannot be negative"}] } } } } }] } }
        """;

    private async Task<HttpClient> EstablishedAsync(string group, string rule)
    {
        var client = server.Client();
        var created = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition(group, rule)));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(50))
        {
            var crd = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Definitions}/widgets.{group}"));
            if ((crd["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Established" && c["status"]?.GetValue<string>() == "True"))
            {
                return client;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not established: {crd}");
        }
    }

    [Fact]
    public async Task Definition_WithARuleThatDoesNotCompile_IsRefused_AndNothingIsStored()
    {
        var client = server.Client();
        var response = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition("badrule.example.com", """{"rule":"self.replicaz <= self.maxReplicas"}""")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.StartsWith(
            "CustomResourceDefinition.apiextensions.k8s.io \"widgets.badrule.example.com\" is invalid: spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.replicaz <= self.maxReplicas\"",
            status["message"]!.GetValue<string>());
        Assert.Contains("compilation failed: ERROR: <input>:1:5: undefined field 'replicaz'", status["message"]!.GetValue<string>());
        Assert.Equal("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule", status["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Definitions}/widgets.badrule.example.com")).StatusCode);
    }

    [Fact]
    public async Task Objects_ThatBreakARule_AreRefusedOnCreateUpdateAndStatus()
    {
        const string Group = "rules.example.com";
        using var client = await EstablishedAsync(Group, """{"rule":"self.replicas <= self.maxReplicas","messageExpression":"'replicas ' + string(self.replicas) + ' exceed ' + string(self.maxReplicas)"},{"rule":"self.name == oldSelf.name","message":"name is immutable"}""");
        const string Items = $"/apis/{Group}/v1/namespaces/default/widgets";
        static StringContent Body(int replicas, string name = "a", string extra = "") =>
            ApiServerFixture.Json($$"""{"apiVersion":"{{Group}}/v1","kind":"Widget","metadata":{"name":"w"{{extra}} },"spec":{"replicas":{{replicas}},"maxReplicas":3,"name":"{{name}}"} }""");

        var refused = await client.PostAsync(Items, Body(5));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var status = await ApiServerFixture.ReadAsync(refused);
        Assert.Equal("Widget.rules.example.com \"w\" is invalid: spec: Invalid value: \"object\": replicas 5 exceed 3", status["message"]!.GetValue<string>());
        Assert.Equal("FieldValueInvalid", status["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Items}/w")).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(Items, Body(2))).StatusCode);
        var current = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Items}/w"));
        var version = current["metadata"]!["resourceVersion"]!.GetValue<string>();

        // The transition rule sees the stored object as oldSelf.
        var renamed = await client.PutAsync($"{Items}/w", Body(2, "b", $",\"resourceVersion\":\"{version}\""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, renamed.StatusCode);
        Assert.EndsWith("is invalid: spec: Invalid value: \"object\": name is immutable", (await ApiServerFixture.ReadAsync(renamed))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"{Items}/w", Body(3, "a", $",\"resourceVersion\":\"{version}\""))).StatusCode);

        var badStatus = await client.PatchAsync($"{Items}/w/status", ApiServerFixture.Json("""{"status":{"ready":-1}}""", "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badStatus.StatusCode);
        Assert.EndsWith("is invalid: status: Invalid value: \"object\": ready cannot be negative", (await ApiServerFixture.ReadAsync(badStatus))["message"]!.GetValue<string>());
    }
}
