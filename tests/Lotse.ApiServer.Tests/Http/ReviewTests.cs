using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Http;

/// <summary>Reviews (whoami, can-i, token review) and service-account tokens against the real API server in-process.</summary>
public sealed class ReviewTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Theory]
    [InlineData("v1")]
    [InlineData("v1beta1")]
    public async Task SelfSubjectReview_NamesTheCaller(string version)
    {
        using var client = server.Client();
        var response = await client.PostAsync($"/apis/authentication.k8s.io/{version}/selfsubjectreviews", ApiServerFixture.Json("""{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var review = await ApiServerFixture.ReadAsync(response);
        Assert.Equal($"authentication.k8s.io/{version}", review["apiVersion"]!.GetValue<string>());
        Assert.Equal("admin", review["status"]!["userInfo"]!["username"]!.GetValue<string>());
        Assert.Equal(["system:masters", "system:authenticated"], review["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Null(review["spec"]);

        // Answered, not stored: there is nothing to list.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync($"/apis/authentication.k8s.io/{version}/selfsubjectreviews")).StatusCode);
    }

    [Fact]
    public async Task AccessReviews_AnswerFromTheAuthorizer()
    {
        using var client = server.Client();
        var self = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ApiServerFixture.Json(
            """{"spec":{"resourceAttributes":{"namespace":"default","verb":"create","resource":"pods"}}}""")));
        Assert.True(self["status"]!["allowed"]!.GetValue<bool>());
        Assert.Equal("create", self["spec"]!["resourceAttributes"]!["verb"]!.GetValue<string>());

        var anonymous = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authorization.k8s.io/v1/subjectaccessreviews", ApiServerFixture.Json(
            """{"spec":{"user":"system:anonymous","groups":["system:unauthenticated"],"nonResourceAttributes":{"path":"/healthz","verb":"get"}}}""")));
        Assert.False(anonymous["status"]!["allowed"]!.GetValue<bool>());

        var local = await client.PostAsync("/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews", ApiServerFixture.Json(
            """{"spec":{"user":"jane","groups":["system:authenticated"],"resourceAttributes":{"verb":"get","resource":"pods"}}}"""));
        Assert.Equal(HttpStatusCode.Created, local.StatusCode);
        var localReview = await ApiServerFixture.ReadAsync(local);
        Assert.Equal("default", localReview["spec"]!["resourceAttributes"]!["namespace"]!.GetValue<string>());
        Assert.True(localReview["status"]!["allowed"]!.GetValue<bool>());

        var rules = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", ApiServerFixture.Json("""{"spec":{"namespace":"default"}}""")));
        Assert.Equal("*", rules["status"]!["resourceRules"]![0]!["verbs"]![0]!.GetValue<string>());
        Assert.False(rules["status"]!["incomplete"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("selfsubjectaccessreviews", """{"spec":{}}""", 422, "exactly one of nonResourceAttributes or resourceAttributes must be specified")]
    [InlineData("subjectaccessreviews", """{"spec":{"resourceAttributes":{"verb":"get"}}}""", 422, "at least one of user or group must be specified")]
    [InlineData("selfsubjectrulesreviews", """{"spec":{}}""", 422, "spec.namespace: Required value")]
    [InlineData("selfsubjectaccessreviews", """{"spec":{"resourceAttributes":{"verb":7}}}""", 201, "")]
    public async Task AccessReviews_BadInput_IsAStatusNotA500(string plural, string body, int code, string message)
    {
        using var client = server.Client();
        var response = await client.PostAsync($"/apis/authorization.k8s.io/v1/{plural}", ApiServerFixture.Json(body));
        Assert.Equal(code, (int)response.StatusCode);
        Assert.Contains(message, (await ApiServerFixture.ReadAsync(response))["message"]?.GetValue<string>() ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenRequest_IssuesATokenTheServerAccepts_AndTokenReviewExplainsIt()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/serviceaccounts", ApiServerFixture.Json("""{"metadata":{"name":"robot"}}"""));
        var accountUid = (await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/serviceaccounts/robot")))["metadata"]!["uid"]!.GetValue<string>();
        var created = await client.PostAsync("/api/v1/namespaces/default/serviceaccounts/robot/token", ApiServerFixture.Json("""{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var request = await ApiServerFixture.ReadAsync(created);
        Assert.Equal(3600, request["spec"]!["expirationSeconds"]!.GetValue<long>());
        Assert.Equal("https://kubernetes.default.svc.cluster.local", request["spec"]!["audiences"]![0]!.GetValue<string>());
        var token = request["status"]!["token"]!.GetValue<string>();
        var expires = DateTimeOffset.Parse(request["status"]!["expirationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        var claims = JsonNode.Parse(Base64Url(token.Split('.')[1]))!;
        Assert.Equal("system:serviceaccount:default:robot", claims["sub"]!.GetValue<string>());
        Assert.Equal(accountUid, claims["kubernetes.io"]!["serviceaccount"]!["uid"]!.GetValue<string>());

        // The token authenticates as the service account.
        using (var robot = server.Client(token))
        {
            var whoami = await ApiServerFixture.ReadAsync(await robot.PostAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", ApiServerFixture.Json("{}")));
            Assert.Equal("system:serviceaccount:default:robot", whoami["status"]!["userInfo"]!["username"]!.GetValue<string>());
            Assert.Equal(accountUid, whoami["status"]!["userInfo"]!["uid"]!.GetValue<string>());
            Assert.Contains("system:serviceaccounts:default", whoami["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        }

        var review = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", ApiServerFixture.Json($$$"""{"spec":{"token":"{{{token}}}"}}""")));
        Assert.True(review["status"]!["authenticated"]!.GetValue<bool>());
        Assert.Equal("system:serviceaccount:default:robot", review["status"]!["user"]!["username"]!.GetValue<string>());

        // Another audience than the token's: not authenticated; a tampered token neither.
        var otherAudience = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", ApiServerFixture.Json($$$"""{"spec":{"token":"{{{token}}}","audiences":["vault"]}}""")));
        Assert.Null(otherAudience["status"]!["authenticated"]);
        var tampered = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        using (var forger = server.Client(tampered))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await forger.GetAsync("/api/v1/namespaces")).StatusCode);
        }

        // Deleting the account revokes its tokens.
        await client.DeleteAsync("/api/v1/namespaces/default/serviceaccounts/robot");
        using (var revoked = server.Client(token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/v1/namespaces")).StatusCode);
        }
    }

    [Fact]
    public async Task TokenRequest_BoundToAPod_DiesWithThePod_AndChecksItsInput()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/serviceaccounts", ApiServerFixture.Json("""{"metadata":{"name":"bound"}}"""));
        var pod = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"token-holder"},"spec":{"containers":[{"name":"a","image":"x"}]}}""")));
        var podUid = pod["metadata"]!["uid"]!.GetValue<string>();

        var tooShort = await client.PostAsync("/api/v1/namespaces/default/serviceaccounts/bound/token", ApiServerFixture.Json("""{"spec":{"expirationSeconds":60}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooShort.StatusCode);
        Assert.Contains("may not specify a duration less than 10 minutes", (await ApiServerFixture.ReadAsync(tooShort))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var missing = await client.PostAsync("/api/v1/namespaces/default/serviceaccounts/nobody/token", ApiServerFixture.Json("{}"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var wrongUid = await client.PostAsync("/api/v1/namespaces/default/serviceaccounts/bound/token", ApiServerFixture.Json("""{"spec":{"boundObjectRef":{"kind":"Pod","name":"token-holder","uid":"not-it"}}}"""));
        Assert.Equal(HttpStatusCode.Conflict, wrongUid.StatusCode);

        var request = await ApiServerFixture.ReadAsync(await client.PostAsync("/api/v1/namespaces/default/serviceaccounts/bound/token", ApiServerFixture.Json(
            """{"spec":{"expirationSeconds":7200,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"token-holder"}}}""")));
        Assert.Equal(podUid, request["spec"]!["boundObjectRef"]!["uid"]!.GetValue<string>());
        var token = request["status"]!["token"]!.GetValue<string>();
        var review = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", ApiServerFixture.Json($$$"""{"spec":{"token":"{{{token}}}"}}""")));
        Assert.Equal("token-holder", review["status"]!["user"]!["extra"]!["authentication.kubernetes.io/pod-name"]![0]!.GetValue<string>());

        await client.DeleteAsync("/api/v1/namespaces/default/pods/token-holder?gracePeriodSeconds=0");
        var afterDelete = await ApiServerFixture.ReadAsync(await client.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", ApiServerFixture.Json($$$"""{"spec":{"token":"{{{token}}}"}}""")));
        Assert.Null(afterDelete["status"]!["authenticated"]);

        var empty = await client.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", ApiServerFixture.Json("""{"spec":{}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task Bindings_BindThePodTheyName()
    {
        using var client = server.Client();
        await client.PostAsync("/api/v1/namespaces/default/pods", ApiServerFixture.Json("""{"metadata":{"name":"to-bind"},"spec":{"containers":[{"name":"a","image":"x"}]}}"""));
        var bound = await client.PostAsync("/api/v1/namespaces/default/bindings", ApiServerFixture.Json("""{"metadata":{"name":"to-bind"},"target":{"kind":"Node","name":"node-7"}}"""));
        Assert.Equal(HttpStatusCode.Created, bound.StatusCode);
        var pod = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/pods/to-bind"));
        Assert.Equal("node-7", pod["spec"]!["nodeName"]!.GetValue<string>());
    }

    private static string Base64Url(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(base64 + new string('=', (4 - (base64.Length % 4)) % 4)));
    }
}
