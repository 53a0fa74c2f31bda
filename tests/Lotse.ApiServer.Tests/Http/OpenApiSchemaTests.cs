using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>The v3 documents carry full schemas of built-in kinds, with kube's patch extensions.</summary>
public sealed class OpenApiSchemaTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Fact]
    public async Task ADeploymentSchema_ReachesItsContainers_WithMergeKeysAndTypes()
    {
        using var client = server.Client();
        var document = await ApiServerFixture.ReadAsync(await client.GetAsync("/openapi/v3/apis/apps/v1"));
        var schemas = document["components"]!["schemas"]!.AsObject();
        // A described reference is wrapped as kube wraps it: {"description": …, "allOf": [{"$ref": …}]}.
        JsonObject Resolve(JsonNode property) => schemas[(property["$ref"] ?? property["allOf"]![0]!["$ref"])!.GetValue<string>().Split('/')[^1]]!.AsObject();

        var deployment = schemas["io.k8s.api.apps.v1.Deployment"]!.AsObject();
        Assert.Equal("Deployment", deployment["x-kubernetes-group-version-kind"]![0]!["kind"]!.GetValue<string>());
        var spec = Resolve(deployment["properties"]!["spec"]!);
        Assert.Equal(("integer", "int32"), (spec["properties"]!["replicas"]!["type"]!.GetValue<string>(), spec["properties"]!["replicas"]!["format"]!.GetValue<string>()));
        var podSpec = Resolve(Resolve(spec["properties"]!["template"]!)["properties"]!["spec"]!);
        var containers = podSpec["properties"]!["containers"]!;
        Assert.Equal(("array", "name", "merge"), (containers["type"]!.GetValue<string>(), containers["x-kubernetes-patch-merge-key"]!.GetValue<string>(), containers["x-kubernetes-patch-strategy"]!.GetValue<string>()));
        var container = Resolve(containers["items"]!);
        Assert.Equal("string", container["properties"]!["image"]!["type"]!.GetValue<string>());
        Assert.True(Resolve(container["properties"]!["ports"]!["items"]!)["properties"]!["containerPort"] is not null);
        Assert.True(podSpec["properties"]!["nodeSelector"]!["additionalProperties"]!["type"]!.GetValue<string>() == "string");
        var maxSurge = Resolve(Resolve(spec["properties"]!["strategy"]!)["properties"]!["rollingUpdate"]!)["properties"]!["maxSurge"]!;
        Assert.True(maxSurge["x-kubernetes-int-or-string"]!.GetValue<bool>());
    }
}
