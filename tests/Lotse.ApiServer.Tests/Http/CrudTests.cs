using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

public sealed class CrudTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    private static string Name() => "cm-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<JsonObject> CreateConfigMapAsync(HttpClient client, string name, string labels = "{}")
    {
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{{{labels}}}},"data":{"a":"1"}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ApiServerFixture.ReadAsync(response);
    }

    [Fact]
    public async Task Create_SetsUidTimestampAndResourceVersion()
    {
        using var client = server.Client();
        var name = Name();
        var created = await CreateConfigMapAsync(client, name);
        var metadata = created["metadata"]!;
        Assert.True(Guid.TryParse(metadata["uid"]!.GetValue<string>(), out _));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", metadata["creationTimestamp"]!.GetValue<string>());
        Assert.True(long.Parse(metadata["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal("default", metadata["namespace"]!.GetValue<string>());

        var fetched = await ApiServerFixture.ReadAsync(await client.GetAsync($"{ConfigMaps}/{name}"));
        Assert.Equal(metadata["resourceVersion"]!.GetValue<string>(), fetched["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("1", fetched["data"]!["a"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_Twice_Is409AlreadyExistsWordedLikeKubernetes()
    {
        using var client = server.Client();
        var name = Name();
        await CreateConfigMapAsync(client, name);
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json($$$"""{"metadata":{"name":"{{{name}}}"}}"""));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("AlreadyExists", status["reason"]!.GetValue<string>());
        Assert.Equal($"configmaps \"{name}\" already exists", status["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_Missing_Is404WordedLikeKubernetes()
    {
        using var client = server.Client();
        var response = await client.GetAsync($"{ConfigMaps}/absent");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("configmaps \"absent\" not found", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_WithStaleResourceVersion_Is409Conflict()
    {
        using var client = server.Client();
        var name = Name();
        var created = await CreateConfigMapAsync(client, name);
        created["data"]!["a"] = "2";
        var first = await client.PutAsync($"{ConfigMaps}/{name}", ApiServerFixture.Json(created.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var updated = await ApiServerFixture.ReadAsync(first);
        Assert.NotEqual(created["metadata"]!["resourceVersion"]!.GetValue<string>(), updated["metadata"]!["resourceVersion"]!.GetValue<string>());

        created["data"]!["a"] = "3";
        var stale = await client.PutAsync($"{ConfigMaps}/{name}", ApiServerFixture.Json(created.ToJsonString()));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        var status = await ApiServerFixture.ReadAsync(stale);
        Assert.Equal("Conflict", status["reason"]!.GetValue<string>());
        Assert.StartsWith($"Operation cannot be fulfilled on configmaps \"{name}\": the object has been modified", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_WithoutChanges_KeepsResourceVersion()
    {
        using var client = server.Client();
        var name = Name();
        var created = await CreateConfigMapAsync(client, name);
        var again = await ApiServerFixture.ReadAsync(await client.PutAsync($"{ConfigMaps}/{name}", ApiServerFixture.Json(created.ToJsonString())));
        Assert.Equal(created["metadata"]!["resourceVersion"]!.GetValue<string>(), again["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_WithGenerateName_AppendsFiveCharacters()
    {
        using var client = server.Client();
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json("""{"metadata":{"generateName":"gen-"}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", (await ApiServerFixture.ReadAsync(response))["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_InMissingNamespace_Is404ForTheNamespace()
    {
        using var client = server.Client();
        var response = await client.PostAsync("/api/v1/namespaces/nowhere/configmaps", ApiServerFixture.Json("""{"metadata":{"name":"x"}}"""));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("namespaces \"nowhere\" not found", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_InvalidName_Is422WithFieldCause()
    {
        using var client = server.Client();
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json("""{"metadata":{"name":"Not_Valid"}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("Invalid", status["reason"]!.GetValue<string>());
        Assert.StartsWith("ConfigMap \"Not_Valid\" is invalid: metadata.name: Invalid value: \"Not_Valid\"", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("metadata.name", status["details"]!["causes"]![0]!["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{not json", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("kind: [", "application/yaml", HttpStatusCode.BadRequest)]
    [InlineData("<xml/>", "application/xml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"k"}}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"metadata":{"name":"ns-mismatch","namespace":"kube-system"}}""", "application/json", HttpStatusCode.BadRequest)]
    public async Task Create_BadInput_IsStatusErrorAndWritesNothing(string body, string mediaType, HttpStatusCode expected)
    {
        using var client = server.Client();
        var before = await server.Store.GetCurrentRevisionAsync();
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json(body, mediaType));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("Status", (await ApiServerFixture.ReadAsync(response))["kind"]!.GetValue<string>());
        Assert.Equal(before, await server.Store.GetCurrentRevisionAsync());
    }

    [Fact]
    public async Task Create_OversizedBody_Is413()
    {
        using var client = server.Client();
        var big = new string('x', 3 * 1024 * 1024 + 10);
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json($$$"""{"metadata":{"name":"big"},"data":{"a":"{{{big}}}"}}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("RequestEntityTooLarge", (await ApiServerFixture.ReadAsync(response))["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_Yaml_IsAccepted()
    {
        using var client = server.Client();
        var name = Name();
        var response = await client.PostAsync(ConfigMaps, ApiServerFixture.Json($"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  n: \"5\"\n", "application/yaml"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("5", (await ApiServerFixture.ReadAsync(response))["data"]!["n"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_LabelSelectorAndFieldSelector_Filter()
    {
        using var client = server.Client();
        var a = Name();
        var b = Name();
        await CreateConfigMapAsync(client, a, """{"tier":"front","run":"x"}""");
        await CreateConfigMapAsync(client, b, """{"tier":"back"}""");
        async Task<List<string>> Names(string query) =>
            [.. (await ApiServerFixture.ReadAsync(await client.GetAsync($"{ConfigMaps}?{query}")))["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>())];

        Assert.Contains(a, await Names("labelSelector=tier%3Dfront"));
        Assert.DoesNotContain(b, await Names("labelSelector=tier%3Dfront"));
        Assert.Contains(b, await Names("labelSelector=tier+in+(back,middle)"));
        Assert.DoesNotContain(a, await Names("labelSelector=!run"));
        Assert.Equal([a], await Names($"fieldSelector=metadata.name%3D{a}"));
    }

    [Fact]
    public async Task List_InvalidSelectors_Are400()
    {
        using var client = server.Client();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"{ConfigMaps}?labelSelector=a%3D%3D%3Db")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"{ConfigMaps}?fieldSelector=spec.nodeName%3Dx")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/pods?fieldSelector=spec.nodeName%3Dx")).StatusCode);
    }

    [Fact]
    public async Task List_WithLimit_PagesThroughEveryItemOnce()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"paging"}}"""));
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces/paging/configmaps", ApiServerFixture.Json($$$"""{"metadata":{"name":"p{{{i}}}"}}"""))).StatusCode);
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = "/api/v1/namespaces/paging/configmaps?limit=3" + (token is null ? string.Empty : "&continue=" + Uri.EscapeDataString(token));
            var page = await ApiServerFixture.ReadAsync(await client.GetAsync(url));
            seen.AddRange(page["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
            token = page["metadata"]!["continue"]?.GetValue<string>();
            pages++;
        }
        while (!string.IsNullOrEmpty(token));

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"p{i}"), seen);
    }

    [Fact]
    public async Task Delete_ReturnsSuccessStatusAndObjectIsGone()
    {
        using var client = server.Client();
        var name = Name();
        await CreateConfigMapAsync(client, name);
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{ConfigMaps}/{name}") { Content = ApiServerFixture.Json("""{"propagationPolicy":"Background"}""") };
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Success", (await ApiServerFixture.ReadAsync(response))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{ConfigMaps}/{name}")).StatusCode);
    }

    [Fact]
    public async Task Delete_WithFinalizer_WaitsUntilTheFinalizerIsRemoved()
    {
        using var client = server.Client();
        var name = Name();
        await client.PostAsync(ConfigMaps, ApiServerFixture.Json($$$"""{"metadata":{"name":"{{{name}}}","finalizers":["example.com/hold"]}}"""));
        var pending = await ApiServerFixture.ReadAsync(await client.DeleteAsync($"{ConfigMaps}/{name}"));
        Assert.NotNull(pending["metadata"]!["deletionTimestamp"]);
        var held = await ApiServerFixture.ReadAsync(await client.GetAsync($"{ConfigMaps}/{name}"));
        held["metadata"]!["finalizers"] = new JsonArray();
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"{ConfigMaps}/{name}", ApiServerFixture.Json(held.ToJsonString()))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{ConfigMaps}/{name}")).StatusCode);
    }

    [Fact]
    public async Task DryRun_Create_WritesNothing()
    {
        using var client = server.Client();
        var name = Name();
        var response = await client.PostAsync($"{ConfigMaps}?dryRun=All", ApiServerFixture.Json($$$"""{"metadata":{"name":"{{{name}}}"}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{ConfigMaps}/{name}")).StatusCode);
    }
}
