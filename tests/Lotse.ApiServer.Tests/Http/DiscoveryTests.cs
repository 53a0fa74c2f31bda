using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

public sealed class DiscoveryTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Fact]
    public async Task Version_ReportsKubernetes133WithLotseSuffix()
    {
        using var client = server.Client();
        var version = await ApiServerFixture.ReadAsync(await client.GetAsync("/version"));
        Assert.Equal("1", version["major"]!.GetValue<string>());
        Assert.Equal("33", version["minor"]!.GetValue<string>());
        Assert.EndsWith("+lotse", version["gitVersion"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithoutCredentials_Is401Status()
    {
        using var client = server.Client(token: null);
        var response = await client.GetAsync("/api/v1/namespaces");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("Unauthorized", status["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Request_WithUnknownToken_Is401()
    {
        using var client = server.Client(token: "nope");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/version")).StatusCode);
    }

    [Fact]
    public async Task CoreResourceList_HasPodsWithShortNamesCategoriesAndEviction()
    {
        using var client = server.Client();
        var list = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1"));
        var resources = list["resources"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var pods = resources.Single(r => r["name"]!.GetValue<string>() == "pods");
        Assert.Equal("po", pods["shortNames"]![0]!.GetValue<string>());
        Assert.Equal("all", pods["categories"]![0]!.GetValue<string>());
        Assert.True(pods["namespaced"]!.GetValue<bool>());
        var eviction = resources.Single(r => r["name"]!.GetValue<string>() == "pods/eviction");
        Assert.Equal("policy", eviction["group"]!.GetValue<string>());
        Assert.Equal("v1", eviction["version"]!.GetValue<string>());
        Assert.Equal("Eviction", eviction["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apis_LegacyGroupList_PrefersAutoscalingV2()
    {
        using var client = server.Client();
        var groups = await ApiServerFixture.ReadAsync(await client.GetAsync("/apis"));
        Assert.Equal("APIGroupList", groups["kind"]!.GetValue<string>());
        var autoscaling = groups["groups"]!.AsArray().Single(g => g!["name"]!.GetValue<string>() == "autoscaling")!;
        Assert.Equal("autoscaling/v2", autoscaling["preferredVersion"]!["groupVersion"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v2beta1")]
    public async Task Apis_AggregatedAccept_AnswersWithExactMediaType(string version)
    {
        using var client = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
        request.Headers.TryAddWithoutValidation("Accept", $"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList,application/json");
        var response = await client.SendAsync(request);
        Assert.Equal($"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList", response.Content.Headers.ContentType!.ToString().Replace(" ", string.Empty, StringComparison.Ordinal));
        var body = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("APIGroupDiscoveryList", body["kind"]!.GetValue<string>());
        var apps = body["items"]!.AsArray().Single(i => i!["metadata"]!["name"]!.GetValue<string>() == "apps")!;
        var deployments = apps["versions"]![0]!["resources"]!.AsArray().Single(r => r!["resource"]!.GetValue<string>() == "deployments")!;
        Assert.Equal("deploy", deployments["shortNames"]![0]!.GetValue<string>());
        var scale = deployments["subresources"]!.AsArray().Single(s => s!["subresource"]!.GetValue<string>() == "scale")!;
        Assert.Equal("Scale", scale["responseKind"]!["kind"]!.GetValue<string>());
        Assert.Equal("autoscaling", scale["responseKind"]!["group"]!.GetValue<string>());
    }

    [Fact]
    public async Task Readyz_Verbose_ListsChecks()
    {
        using var client = server.Client();
        var text = await client.GetStringAsync("/readyz?verbose");
        Assert.Contains("[+]ping ok", text, StringComparison.Ordinal);
        Assert.Contains("[+]etcd ok", text, StringComparison.Ordinal);
        Assert.Contains("readyz check passed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownResource_Is404Status()
    {
        using var client = server.Client();
        var response = await client.GetAsync("/api/v1/nosuchthings");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NotFound", (await ApiServerFixture.ReadAsync(response))["reason"]!.GetValue<string>());
    }
}
