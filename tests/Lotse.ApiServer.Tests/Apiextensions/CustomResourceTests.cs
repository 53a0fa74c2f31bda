using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Apiextensions;

public sealed class CustomResourceTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string Definitions = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

    private static string Definition(string group, string plural = "crontabs", string kind = "CronTab", string scope = "Namespaced", string schema = DefaultSchema) => $$"""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"{{plural}}.{{group}}"},
         "spec":{"group":"{{group}}","scope":"{{scope}}",
           "names":{"plural":"{{plural}}","singular":"{{kind.ToLowerInvariant()}}","kind":"{{kind}}","shortNames":["ct"],"categories":["all"]},
           "versions":[{"name":"v1","served":true,"storage":true,
             "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"} },
             "additionalPrinterColumns":[{"name":"Spec","type":"string","jsonPath":".spec.cronSpec"},{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"}],
             "schema":{"openAPIV3Schema":{{schema}} } }] } }
        """;

    private const string DefaultSchema = """
        {"type":"object","properties":{
          "spec":{"type":"object","required":["cronSpec"],"properties":{
            "cronSpec":{"type":"string","pattern":"^(\\S+ ){4}\\S+$","description":"The schedule in cron format."},
            "image":{"type":"string","default":"busybox"},
            "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1},
            "mode":{"type":"string","enum":["fast","slow"]},
            "port":{"x-kubernetes-int-or-string":true},
            "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
          "status":{"type":"object","properties":{"replicas":{"type":"integer"},"phase":{"type":"string"}}}}}
        """;

    private async Task<HttpClient> EstablishedAsync(string group, string? definition = null)
    {
        var client = server.Client();
        var created = await client.PostAsync(Definitions, ApiServerFixture.Json(definition ?? Definition(group)));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, await created.Content.ReadAsStringAsync());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var crd = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Definitions}/crontabs.{group}"));
            if ((crd["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Established" && c["status"]?.GetValue<string>() == "True"))
            {
                return client;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not established: {crd}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task EveryServedVersion_ShowsTheSameObjects_InItsOwnApiVersion()
    {
        const string Schema = """{"type":"object","properties":{"spec":{"type":"object","properties":{"cronSpec":{"type":"string"},"replicas":{"type":"integer"} } } } }""";
        var definition = $$"""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "metadata":{"name":"crontabs.versions.example.com"},
             "spec":{"group":"versions.example.com","scope":"Namespaced",
               "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab"},
               "versions":[
                 {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{{Schema}} } },
                 {"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{{Schema}} } }] } }
            """;
        using var client = await EstablishedAsync("versions.example.com", definition);
        const string V1 = "/apis/versions.example.com/v1/namespaces/default/crontabs";
        const string Beta = "/apis/versions.example.com/v1beta1/namespaces/default/crontabs";
        var created = await client.PostAsync(Beta, ApiServerFixture.Json("""{"apiVersion":"versions.example.com/v1beta1","kind":"CronTab","metadata":{"name":"old"},"spec":{"cronSpec":"* * * * *"} }"""));
        Assert.Equal("versions.example.com/v1beta1", (await ApiServerFixture.ReadAsync(created))["apiVersion"]!.GetValue<string>());

        Assert.Equal("versions.example.com/v1", (await ApiServerFixture.ReadAsync(await client.GetAsync($"{V1}/old")))["apiVersion"]!.GetValue<string>());
        var list = await ApiServerFixture.ReadAsync(await client.GetAsync(V1));
        Assert.Equal("versions.example.com/v1", list["items"]![0]!["apiVersion"]!.GetValue<string>());

        // A patch through the other version applies to the object as that version shows it.
        var patched = await client.PatchAsync($"{V1}/old", ApiServerFixture.Json("""{"spec":{"replicas":2}}""", "application/merge-patch+json"));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        Assert.Equal("versions.example.com/v1", (await ApiServerFixture.ReadAsync(patched))["apiVersion"]!.GetValue<string>());
        var beta = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Beta}/old"));
        Assert.Equal(("versions.example.com/v1beta1", 2), (beta["apiVersion"]!.GetValue<string>(), beta["spec"]!["replicas"]!.GetValue<int>()));

        // Watches too.
        using var watch = await client.GetAsync($"{Beta}?watch=true&timeoutSeconds=1", HttpCompletionOption.ResponseHeadersRead);
        var first = JsonNode.Parse((await new StreamReader(await watch.Content.ReadAsStreamAsync()).ReadLineAsync())!)!;
        Assert.Equal("versions.example.com/v1beta1", first["object"]!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task UndeclaredFields_AreRefusedUnderStrict_WarnedAbout_OrDroppedQuietly()
    {
        using var client = await EstablishedAsync("strict.example.com");
        const string Items = "/apis/strict.example.com/v1/namespaces/default/crontabs";
        static StringContent Body(string name) => ApiServerFixture.Json($$"""{"apiVersion":"strict.example.com/v1","kind":"CronTab","metadata":{"name":"{{name}}"},"spec":{"cronSpec":"* * * * 5","colour":"red","extra":{"free":1} } }""");

        var strict = await client.PostAsync($"{Items}?fieldValidation=Strict", Body("strict"));
        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Equal("CronTab in version \"v1\" cannot be handled as a CronTab: strict decoding error: unknown field \"spec.colour\"", (await ApiServerFixture.ReadAsync(strict))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Items}/strict")).StatusCode);

        var warned = await client.PostAsync($"{Items}?fieldValidation=Warn", Body("warned"));
        Assert.Equal(HttpStatusCode.Created, warned.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"spec.colour\\\"\""], warned.Headers.GetValues("Warning"));
        Assert.Null((await ApiServerFixture.ReadAsync(warned))["spec"]!["colour"]);

        var quiet = await client.PostAsync($"{Items}?fieldValidation=Ignore", Body("quiet"));
        Assert.Equal(HttpStatusCode.Created, quiet.StatusCode);
        Assert.False(quiet.Headers.Contains("Warning"));
    }

    [Fact]
    public async Task Establishing_ServesTheKind_WithDiscoveryDefaultsPruningAndPrinterColumns()
    {
        using var client = await EstablishedAsync("serve.example.com");
        var crd = await ApiServerFixture.ReadAsync(await client.GetAsync($"{Definitions}/crontabs.serve.example.com"));
        Assert.Equal("CronTabList", crd["spec"]!["names"]!["listKind"]!.GetValue<string>());
        Assert.Contains("customresourcecleanup.apiextensions.k8s.io", crd["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("v1", crd["status"]!["storedVersions"]![0]!.GetValue<string>());
        Assert.Equal("crontabs", crd["status"]!["acceptedNames"]!["plural"]!.GetValue<string>());

        var discovery = await ApiServerFixture.ReadAsync(await client.GetAsync("/apis/serve.example.com/v1"));
        var resource = discovery["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "crontabs")!;
        Assert.Equal(("CronTab", true, "ct"), (resource["kind"]!.GetValue<string>(), resource["namespaced"]!.GetValue<bool>(), resource["shortNames"]![0]!.GetValue<string>()));
        Assert.Contains(discovery["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "crontabs/status");

        const string Items = "/apis/serve.example.com/v1/namespaces/default/crontabs";
        var created = await client.PostAsync(Items, ApiServerFixture.Json("""{"apiVersion":"serve.example.com/v1","kind":"CronTab","metadata":{"name":"nightly"},"spec":{"cronSpec":"* * * * 5","unknown":1,"extra":{"anything":[1,2]}},"status":{"phase":"ignored"} }"""));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var obj = await ApiServerFixture.ReadAsync(created);
        Assert.Equal(("busybox", 1), (obj["spec"]!["image"]!.GetValue<string>(), obj["spec"]!["replicas"]!.GetValue<int>()));
        Assert.Null(obj["spec"]!["unknown"]);
        Assert.Equal(2, obj["spec"]!["extra"]!["anything"]!.AsArray().Count);
        Assert.Null(obj["status"]);
        Assert.Equal(1, obj["metadata"]!["generation"]!.GetValue<int>());

        // Status goes through /status only.
        var status = await client.PutAsync($"{Items}/nightly/status", ApiServerFixture.Json(obj.Merge("""{"status":{"phase":"Running","replicas":1}}""")));
        Assert.True(status.StatusCode == HttpStatusCode.OK, await status.Content.ReadAsStringAsync());
        Assert.Equal("Running", (await ApiServerFixture.ReadAsync(await client.GetAsync($"{Items}/nightly")))["status"]!["phase"]!.GetValue<string>());

        // Scale and the table kubectl get prints.
        var scale = await client.PatchAsync($"{Items}/nightly/scale", ApiServerFixture.Json("""{"spec":{"replicas":3}}""", "application/merge-patch+json"));
        Assert.True(scale.StatusCode == HttpStatusCode.OK, await scale.Content.ReadAsStringAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, Items);
        request.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        var table = await ApiServerFixture.ReadAsync(await client.SendAsync(request));
        Assert.Equal(["Name", "Spec", "Replicas"], table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal("""["nightly","* * * * 5",3]""", table["rows"]![0]!["cells"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"cronSpec":"* * * * 5","replicas":"three"}""", "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"")]
    [InlineData("""{"cronSpec":"* * * * 5","replicas":20}""", "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10")]
    [InlineData("""{"cronSpec":"often"}""", "spec.cronSpec: Invalid value: \"often\": spec.cronSpec in body should match")]
    [InlineData("""{"image":"x"}""", "spec.cronSpec: Required value")]
    [InlineData("""{"cronSpec":"* * * * 5","mode":"medium"}""", "spec.mode: Unsupported value: \"medium\": supported values: \"fast\", \"slow\"")]
    [InlineData("""{"cronSpec":"* * * * 5","port":true}""", "spec.port in body must be of type integer,string")]
    public async Task ObjectsThatBreakTheSchema_Are422_AndNothingIsWritten(string spec, string expected)
    {
        using var client = await EstablishedAsync("invalid.example.com");
        var response = await client.PostAsync("/apis/invalid.example.com/v1/namespaces/default/crontabs", ApiServerFixture.Json($$"""{"apiVersion":"invalid.example.com/v1","kind":"CronTab","metadata":{"name":"bad"},"spec":{{spec}} }"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>();
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.StartsWith("CronTab.invalid.example.com \"bad\" is invalid: ", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/apis/invalid.example.com/v1/namespaces/default/crontabs/bad")).StatusCode);
    }

    [Fact]
    public async Task DeletingTheDefinition_DeletesItsObjects_AndStopsServingIt()
    {
        using var client = await EstablishedAsync("gone.example.com", Definition("gone.example.com", scope: "Cluster"));
        const string Items = "/apis/gone.example.com/v1/crontabs";
        for (var i = 0; i < 3; i++)
        {
            var created = await client.PostAsync(Items, ApiServerFixture.Json($$"""{"apiVersion":"gone.example.com/v1","kind":"CronTab","metadata":{"name":"c{{i}}"},"spec":{"cronSpec":"* * * * 5"} }"""));
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        Assert.Equal(3, (await ApiServerFixture.ReadAsync(await client.GetAsync(Items)))["items"]!.AsArray().Count);
        await client.DeleteAsync($"{Definitions}/crontabs.gone.example.com");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await client.GetAsync($"{Definitions}/crontabs.gone.example.com")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "the definition was not deleted");
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Items)).StatusCode);
        Assert.Empty((await server.Store.RangeAsync(new Lotse.Storage.RangeRequest("/registry/crontabs.gone.example.com/", 10, null, 0), default)).Items);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"spec":{"properties":{"x":{"type":"string"}}}}}""", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields")]
    [InlineData("""{"type":"object","properties":{"spec":{"type":"object","properties":{"x":{"type":"string"}},"additionalProperties":{"type":"string"}}}}""", "additionalProperties and properties are mutual exclusive")]
    [InlineData("""{"type":"string"}""", "spec.versions[0].schema.openAPIV3Schema.type: Invalid value: \"string\": must be object at the root")]
    public async Task DefinitionsWithoutAStructuralSchema_Are422(string schema, string expected)
    {
        using var client = server.Client();
        var response = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition("bad.example.com", schema: schema)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(expected, (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefinitionNames_MustBePluralDotGroup_AndTheGroupADomain()
    {
        using var client = server.Client();
        var wrongName = Definition("names.example.com").Replace("\"name\":\"crontabs.names.example.com\"", "\"name\":\"other.names.example.com\"", StringComparison.Ordinal);
        var response = await client.PostAsync(Definitions, ApiServerFixture.Json(wrongName));
        Assert.Contains("metadata.name: Invalid value: \"other.names.example.com\": must be spec.names.plural+\".\"+spec.group", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var noDot = await client.PostAsync(Definitions, ApiServerFixture.Json(Definition("nodot")));
        Assert.Contains("spec.group: Invalid value: \"nodot\": should be a domain with at least one dot", (await ApiServerFixture.ReadAsync(noDot))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

internal static class JsonMerge
{
    /// <summary>The object with <paramref name="patch"/>'s top-level fields put over it, as JSON text.</summary>
    public static string Merge(this JsonObject obj, string patch)
    {
        var copy = (JsonObject)obj.DeepClone();
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
        {
            copy[key] = value?.DeepClone();
        }

        return copy.ToJsonString();
    }
}
