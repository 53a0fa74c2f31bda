using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>autoscaling/v1 and v2 HorizontalPodAutoscalers are the same objects, converted as kube converts them.</summary>
public sealed class AutoscalingVersionsTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string V1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
    private const string V2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";

    [Fact]
    public async Task AV1Autoscaler_IsAV2OneWithACpuMetric_AndBack()
    {
        using var client = server.Client();
        // What kubectl autoscale (before 1.33) sends.
        var created = await client.PostAsync(V1, ApiServerFixture.Json("""{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,"targetCPUUtilizationPercentage":60}}"""));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var asV1 = await ApiServerFixture.ReadAsync(created);
        Assert.Equal(("autoscaling/v1", 60), (asV1["apiVersion"]!.GetValue<string>(), asV1["spec"]!["targetCPUUtilizationPercentage"]!.GetValue<int>()));

        var asV2 = await ApiServerFixture.ReadAsync(await client.GetAsync($"{V2}/web"));
        Assert.Equal("autoscaling/v2", asV2["apiVersion"]!.GetValue<string>());
        var metric = asV2["spec"]!["metrics"]!.AsArray().Single()!;
        Assert.Equal(("Resource", "cpu", "Utilization", 60), (metric["type"]!.GetValue<string>(), metric["resource"]!["name"]!.GetValue<string>(), metric["resource"]!["target"]!["type"]!.GetValue<string>(), metric["resource"]!["target"]!["averageUtilization"]!.GetValue<int>()));
        Assert.Null(asV2["spec"]!["targetCPUUtilizationPercentage"]);
        Assert.Single((await ApiServerFixture.ReadAsync(await client.GetAsync(V2)))["items"]!.AsArray());

        // A patch through v1 lands on the same object.
        var patched = await client.PatchAsync($"{V1}/web", ApiServerFixture.Json("""{"spec":{"maxReplicas":7}}""", "application/merge-patch+json"));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        Assert.Equal(7, (await ApiServerFixture.ReadAsync(await client.GetAsync($"{V2}/web")))["spec"]!["maxReplicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task WhatV1CannotSay_RidesInAnnotations_SoAV1RoundTripKeepsIt()
    {
        using var client = server.Client();
        var created = await client.PostAsync(V2, ApiServerFixture.Json("""
            {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"rich"},
             "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"rich"},"minReplicas":1,"maxReplicas":4,
               "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
                          {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"100Mi"}}}],
               "behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}}}
            """));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());

        var asV1 = await ApiServerFixture.ReadAsync(await client.GetAsync($"{V1}/rich"));
        Assert.Equal(70, asV1["spec"]!["targetCPUUtilizationPercentage"]!.GetValue<int>());
        Assert.Null(asV1["spec"]!["metrics"]);
        Assert.Contains("memory", asV1["metadata"]!["annotations"]!["autoscaling.alpha.kubernetes.io/metrics"]!.GetValue<string>(), StringComparison.Ordinal);

        // A v1 client writes back what it read, with a new bound: the memory metric and the behavior stay.
        asV1["spec"]!["maxReplicas"] = 6;
        var put = await client.PutAsync($"{V1}/rich", ApiServerFixture.Json(asV1.ToJsonString()));
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        var asV2 = await ApiServerFixture.ReadAsync(await client.GetAsync($"{V2}/rich"));
        Assert.Equal(6, asV2["spec"]!["maxReplicas"]!.GetValue<int>());
        Assert.Equal(["cpu", "memory"], asV2["spec"]!["metrics"]!.AsArray().Select(m => m!["resource"]!["name"]!.GetValue<string>()));
        Assert.Equal(60, asV2["spec"]!["behavior"]!["scaleDown"]!["stabilizationWindowSeconds"]!.GetValue<int>());
        Assert.Null(asV2["metadata"]!["annotations"]);
    }
}
