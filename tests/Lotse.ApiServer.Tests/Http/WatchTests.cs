using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

public sealed class WatchTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private static async Task<JsonObject> NextEventAsync(StreamReader reader)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = await reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException("watch ended");
        return JsonNode.Parse(line)!.AsObject();
    }

    [Fact]
    public async Task Watch_FromResourceVersion_DeliversLaterEventsInOrder()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"watch-a"}}"""));
        var list = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/watch-a/configmaps"));
        var rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();

        using var stream = await client.GetStreamAsync($"/api/v1/namespaces/watch-a/configmaps?watch=true&resourceVersion={rv}");
        using var reader = new StreamReader(stream);
        var created = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/watch-a/configmaps", ApiServerFixture.Json("""{"metadata":{"name":"w1"},"data":{"v":"1"}}""")));
        created["data"]!["v"] = "2";
        await client.PutAsync("/api/v1/namespaces/watch-a/configmaps/w1", ApiServerFixture.Json(created.ToJsonString()));
        await client.DeleteAsync("/api/v1/namespaces/watch-a/configmaps/w1");

        var added = await NextEventAsync(reader);
        Assert.Equal("ADDED", added["type"]!.GetValue<string>());
        Assert.Equal("w1", added["object"]!["metadata"]!["name"]!.GetValue<string>());
        var modified = await NextEventAsync(reader);
        Assert.Equal("MODIFIED", modified["type"]!.GetValue<string>());
        Assert.Equal("2", modified["object"]!["data"]!["v"]!.GetValue<string>());
        var deleted = await NextEventAsync(reader);
        Assert.Equal("DELETED", deleted["type"]!.GetValue<string>());
        Assert.True(long.Parse(deleted["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            > long.Parse(modified["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_StartsWithExistingObjects()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"watch-b"}}"""));
        await client.PostAsync("/api/v1/namespaces/watch-b/configmaps", ApiServerFixture.Json("""{"metadata":{"name":"existing"}}"""));
        using var stream = await client.GetStreamAsync("/api/v1/namespaces/watch-b/configmaps?watch=1");
        using var reader = new StreamReader(stream);
        var first = await NextEventAsync(reader);
        Assert.Equal("ADDED", first["type"]!.GetValue<string>());
        Assert.Equal("existing", first["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_LabelSelector_TurnsStoppingToMatchIntoDeleted()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"watch-c"}}"""));
        var created = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/watch-c/configmaps", ApiServerFixture.Json("""{"metadata":{"name":"sel","labels":{"app":"x"}}}""")));
        var rv = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        using var stream = await client.GetStreamAsync($"/api/v1/namespaces/watch-c/configmaps?watch=true&labelSelector=app%3Dx&resourceVersion={rv}");
        using var reader = new StreamReader(stream);
        created["metadata"]!["labels"]!["app"] = "y";
        await client.PutAsync("/api/v1/namespaces/watch-c/configmaps/sel", ApiServerFixture.Json(created.ToJsonString()));
        var e = await NextEventAsync(reader);
        Assert.Equal("DELETED", e["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsTheStream()
    {
        using var client = server.Client();
        using var stream = await client.GetStreamAsync("/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=1&resourceVersion=" + (await server.Store.GetCurrentRevisionAsync()));
        using var reader = new StreamReader(stream);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        Assert.Equal(string.Empty, await reader.ReadToEndAsync(cts.Token));
    }
}
