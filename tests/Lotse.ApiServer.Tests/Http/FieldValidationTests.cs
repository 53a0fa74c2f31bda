using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>fieldValidation: unknown fields of built-in kinds are refused (Strict), reported (Warn, the default) or dropped (Ignore) — never stored.</summary>
public sealed class FieldValidationTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    private static string Deployment(string name) => $$$"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"{{{name}}}","colour":"red"},
         "spec":{"replica":3,"selector":{"matchLabels":{"app":"x"}},
                 "template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox","imagePullPolicyy":"Always"}]} } } }
        """;

    [Fact]
    public async Task Strict_RefusesUnknownFields_WithTheirPaths_AndWritesNothing()
    {
        using var client = server.Client();
        var response = await client.PostAsync($"{Deployments}?fieldValidation=Strict", ApiServerFixture.Json(Deployment("strict")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"metadata.colour\", unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"",
            (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Deployments}/strict")).StatusCode);
    }

    [Fact]
    public async Task Warn_IsTheDefault_DropsTheFields_AndSaysSoInWarningHeaders()
    {
        using var client = server.Client();
        var response = await client.PostAsync(Deployments, ApiServerFixture.Json(Deployment("warned")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("299 - \"unknown field \\\"spec.replica\\\"\"", response.Headers.GetValues("Warning"));
        Assert.Equal(3, response.Headers.GetValues("Warning").Count());
        var stored = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Deployments}/warned"));
        Assert.Null(stored["spec"]!["replica"]);
        Assert.Null(stored["metadata"]!["colour"]);
        Assert.Equal("busybox", stored["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ignore_DropsQuietly_AndPatchesAreValidatedToo()
    {
        using var client = server.Client();
        var response = await client.PostAsync($"{Deployments}?fieldValidation=Ignore", ApiServerFixture.Json(Deployment("quiet")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(response.Headers.Contains("Warning"));

        var patch = new StringContent("""{"spec":{"paused":true,"pasued":true}}""", System.Text.Encoding.UTF8, "application/merge-patch+json");
        var refused = await client.PatchAsync($"{Deployments}/quiet?fieldValidation=Strict", patch);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("unknown field \"spec.pasued\"", (await ApiServerFixture.ReadAsync(refused))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var stored = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Deployments}/quiet"));
        Assert.Null(stored["spec"]!["paused"]);

        var bad = await client.PostAsync($"{Deployments}?fieldValidation=Sometimes", ApiServerFixture.Json(Deployment("bad")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task KnownFieldsEverywhere_PassStrict()
    {
        using var client = server.Client();
        var pod = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"full","labels":{"a":"b"},"annotations":{"x":"y"}},
             "spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"100m"}},
                     "ports":[{"containerPort":80,"name":"http"}],"env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
                     "readinessProbe":{"httpGet":{"path":"/","port":"http"}},"volumeMounts":[{"name":"v","mountPath":"/v"}]}],
                     "volumes":[{"name":"v","emptyDir":{"sizeLimit":"1Gi"}}],"nodeSelector":{"disk":"ssd"},
                     "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In","values":["v"]}]}]}}}}}
            """)!.ToJsonString();
        var response = await client.PostAsync("/api/v1/namespaces/default/pods?fieldValidation=Strict", ApiServerFixture.Json(pod));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(response.Headers.Contains("Warning"));
    }
}
