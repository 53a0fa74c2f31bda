using System.Net;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>The API server with the ServiceAccount admission on, as a full server runs it.</summary>
public sealed class ServiceAccountAdmissionFixture : ApiServerFixture
{
    public ServiceAccountAdmissionFixture() => ServiceAccountAdmission = true;
}

/// <summary>The ServiceAccount admission on pod creation, against the real API server in-process.</summary>
public sealed class ServiceAccountAdmissionTests(ServiceAccountAdmissionFixture server) : IClassFixture<ServiceAccountAdmissionFixture>
{
    private const string TokenPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    private static async Task<HttpClient> NamespaceAsync(ApiServerFixture server, string ns, params string[] accounts)
    {
        var client = server.Client();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json(new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }.ToJsonString()))).StatusCode);
        foreach (var account in accounts)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync($"/api/v1/namespaces/{ns}/serviceaccounts", ApiServerFixture.Json(account))).StatusCode);
        }

        return client;
    }

    private static StringContent Pod(string name, JsonObject? spec = null)
    {
        spec ??= [];
        spec["containers"] ??= new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" });
        return ApiServerFixture.Json(new JsonObject { ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec }.ToJsonString());
    }

    [Fact]
    public async Task APod_GetsTheDefaultAccount_AndItsTokenVolumeInEveryContainer()
    {
        using var client = await NamespaceAsync(server, "sa-mount", """{"metadata":{"name":"default"}}""");
        var spec = new JsonObject
        {
            ["initContainers"] = new JsonArray(new JsonObject { ["name"] = "init", ["image"] = "busybox" }),
            ["containers"] = new JsonArray(
                new JsonObject { ["name"] = "a", ["image"] = "busybox" },
                new JsonObject
                {
                    ["name"] = "own",
                    ["image"] = "busybox",
                    ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "mine", ["mountPath"] = TokenPath }),
                }),
            ["volumes"] = new JsonArray(new JsonObject { ["name"] = "mine", ["emptyDir"] = new JsonObject() }),
        };
        var pod = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-mount/pods", Pod("p", spec)));

        Assert.Equal("default", pod["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("default", pod["spec"]!["serviceAccount"]!.GetValue<string>());
        var volume = pod["spec"]!["volumes"]!.AsArray().OfType<JsonObject>().Single(v => v["name"]!.GetValue<string>().StartsWith("kube-api-access-", StringComparison.Ordinal));
        var name = volume["name"]!.GetValue<string>();
        Assert.Matches("^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$", name);
        var sources = volume["projected"]!["sources"]!.AsArray();
        Assert.Equal(420, volume["projected"]!["defaultMode"]!.GetValue<int>());
        Assert.Equal(3607, sources[0]!["serviceAccountToken"]!["expirationSeconds"]!.GetValue<int>());
        Assert.Equal("token", sources[0]!["serviceAccountToken"]!["path"]!.GetValue<string>());
        Assert.Equal("kube-root-ca.crt", sources[1]!["configMap"]!["name"]!.GetValue<string>());
        Assert.Equal("metadata.namespace", sources[2]!["downwardAPI"]!["items"]![0]!["fieldRef"]!["fieldPath"]!.GetValue<string>());

        JsonArray Mounts(string list, int i) => pod["spec"]![list]![i]!["volumeMounts"]!.AsArray();
        Assert.Contains(Mounts("initContainers", 0), m => m!["name"]!.GetValue<string>() == name && m["mountPath"]!.GetValue<string>() == TokenPath && m["readOnly"]!.GetValue<bool>());
        Assert.Contains(Mounts("containers", 0), m => m!["name"]!.GetValue<string>() == name && m["readOnly"]!.GetValue<bool>());
        // A container with its own mount at the path keeps it and gets no second one.
        Assert.Equal("mine", Assert.Single(Mounts("containers", 1))!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task AutomountOff_OnTheAccountOrThePod_MountsNothing_AndThePodWins()
    {
        using var client = await NamespaceAsync(server, "sa-off",
            """{"metadata":{"name":"default"}}""",
            """{"metadata":{"name":"quiet"},"automountServiceAccountToken":false}""");

        var quiet = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-off/pods", Pod("quiet", new JsonObject { ["serviceAccountName"] = "quiet" })));
        Assert.Null(quiet["spec"]!["volumes"]);
        Assert.Null(quiet["spec"]!["containers"]![0]!["volumeMounts"]);

        var podOff = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-off/pods", Pod("off", new JsonObject { ["automountServiceAccountToken"] = false })));
        Assert.Null(podOff["spec"]!["volumes"]);

        var podOn = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-off/pods", Pod("on", new JsonObject { ["serviceAccountName"] = "quiet", ["automountServiceAccountToken"] = true })));
        Assert.Single(podOn["spec"]!["volumes"]!.AsArray());
    }

    [Fact]
    public async Task TheAccountsImagePullSecrets_FillAPodWithoutAny()
    {
        using var client = await NamespaceAsync(server, "sa-pull", """{"metadata":{"name":"builder"},"imagePullSecrets":[{"name":"regcred"}]}""");
        var filled = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-pull/pods", Pod("filled", new JsonObject { ["serviceAccountName"] = "builder" })));
        Assert.Equal("regcred", filled["spec"]!["imagePullSecrets"]![0]!["name"]!.GetValue<string>());

        var own = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/sa-pull/pods", Pod("own", new JsonObject
        {
            ["serviceAccountName"] = "builder",
            ["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = "mine" }),
        })));
        Assert.Equal("mine", Assert.Single(own["spec"]!["imagePullSecrets"]!.AsArray())!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task AMissingAccount_IsForbidden_AndNothingIsStored()
    {
        using var client = await NamespaceAsync(server, "sa-missing");
        var response = await client.PostAsync("/api/v1/namespaces/sa-missing/pods", Pod("lost", new JsonObject { ["serviceAccountName"] = "nobody" }));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(
            "pods \"lost\" is forbidden: error looking up service account sa-missing/nobody: serviceaccount \"nobody\" not found",
            (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/sa-missing/pods/lost")).StatusCode);
    }

    [Fact]
    public async Task ADefaultAccountThatAppearsShortlyAfter_IsWaitedFor()
    {
        using var client = await NamespaceAsync(server, "sa-late");
        var create = client.PostAsync("/api/v1/namespaces/sa-late/pods", Pod("patient"));
        await Task.Delay(300);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces/sa-late/serviceaccounts", ApiServerFixture.Json("""{"metadata":{"name":"default"}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await create).StatusCode);
    }

    [Fact]
    public async Task MirrorPods_AreLeftAlone()
    {
        using var client = await NamespaceAsync(server, "sa-mirror");
        var mirror = await client.PostAsync("/api/v1/namespaces/sa-mirror/pods", ApiServerFixture.Json("""
            {"metadata":{"name":"static-n1","annotations":{"kubernetes.io/config.mirror":"abc"}},
             "spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}
            """));
        Assert.Equal(HttpStatusCode.Created, mirror.StatusCode);
        var pod = await ApiServerFixture.ReadAsync(mirror);
        Assert.Null(pod["spec"]!["serviceAccountName"]);
        Assert.Null(pod["spec"]!["volumes"]);
    }
}
