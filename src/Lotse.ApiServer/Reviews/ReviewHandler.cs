using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Authentication;
using Lotse.ApiServer.Authorization;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;

namespace Lotse.ApiServer.Reviews;

/// <summary>
/// The API's create-only kinds that are answered, not stored: authentication.k8s.io TokenReview and
/// SelfSubjectReview (<c>kubectl auth whoami</c>), authorization.k8s.io Self/Local/SubjectAccessReview
/// (<c>kubectl auth can-i</c>) and SelfSubjectRulesReview (<c>can-i --list</c>), and
/// <c>serviceaccounts/{name}/token</c> (TokenRequest, <c>kubectl create token</c>). Each answer is the
/// request with its <c>status</c> filled in, as kube-apiserver returns it.
/// </summary>
public sealed class ReviewHandler(
    RequestAuthenticator authenticator,
    ServiceAccountTokens tokens,
    IAuthorizer authorizer,
    ObjectStore objects,
    ResourceRegistry registry,
    TimeProvider time)
{
    /// <summary>kube's default and minimum TokenRequest lifetimes.</summary>
    private const long DefaultExpirationSeconds = 3600, MinExpirationSeconds = 600;

    public async Task<JsonObject> ReviewAsync(RequestScope scope, JsonObject body, UserInfo user, CancellationToken ct)
    {
        var resource = scope.Resource;
        var spec = body["spec"] as JsonObject ?? [];
        JsonObject status = resource.Kind switch
        {
            "SelfSubjectReview" => new JsonObject { ["userInfo"] = UserJson(user) },
            "TokenReview" => TokenReview(spec),
            "SelfSubjectAccessReview" => await AccessReviewAsync(user, spec, scope, ct),
            "SubjectAccessReview" or "LocalSubjectAccessReview" => await AccessReviewAsync(SubjectOf(resource, spec), spec, scope, ct),
            "SelfSubjectRulesReview" => await RulesReviewAsync(user, spec, ct),
            _ => throw StatusException.MethodNotSupported(resource.GroupResource, "create"),
        };

        var metadata = body["metadata"] as JsonObject ?? [];
        metadata["creationTimestamp"] = Now();
        if (scope.Namespace is not null)
        {
            metadata["namespace"] = scope.Namespace;
        }

        var answer = new JsonObject
        {
            ["kind"] = resource.Kind,
            ["apiVersion"] = resource.GroupVersion,
            ["metadata"] = metadata.DeepClone(),
        };
        if (resource.Kind != "SelfSubjectReview")
        {
            answer["spec"] = spec.DeepClone();
        }

        answer["status"] = status;
        return answer;
    }

    /// <summary>serviceaccounts/{name}/token: a bound token for the account (and the pod, secret or node it names).</summary>
    public async Task<JsonObject> TokenRequestAsync(RequestScope account, JsonObject body, CancellationToken ct)
    {
        var spec = body["spec"] as JsonObject ?? [];
        var path = FieldPath.Root("spec");
        var expiration = spec["expirationSeconds"] is JsonValue e && e.TryGetValue<long>(out var seconds) ? seconds : DefaultExpirationSeconds;
        if (expiration < MinExpirationSeconds)
        {
            throw StatusException.Invalid("authentication.k8s.io", "TokenRequest", account.Name!, [FieldError.Invalid(path.Child("expirationSeconds"), expiration.ToString(CultureInfo.InvariantCulture), "may not specify a duration less than 10 minutes")]);
        }

        if (expiration > 1L << 32)
        {
            throw StatusException.Invalid("authentication.k8s.io", "TokenRequest", account.Name!, [FieldError.Invalid(path.Child("expirationSeconds"), expiration.ToString(CultureInfo.InvariantCulture), "may not specify a duration larger than 2^32 seconds")]);
        }

        var audiences = Strings(spec["audiences"]);
        if (audiences.Count == 0)
        {
            audiences = [.. tokens.Audiences];
        }

        var sa = (await objects.GetAsync(account with { Subresource = null }, null, ct)).Object;
        (string, string, string)? bound = null;
        (string, string)? node = null;
        if (spec["boundObjectRef"] is JsonObject reference)
        {
            var kind = Str(reference["kind"]) ?? string.Empty;
            var name = Str(reference["name"]) ?? string.Empty;
            var plural = kind switch
            {
                "Pod" => "pods",
                "Secret" => "secrets",
                "Node" => "nodes",
                _ => throw StatusException.BadRequest($"cannot bind token for object of kind \"{kind}\": supported kinds are Pod, Secret, Node"),
            };
            var resource = registry.Find("", "v1", plural)!;
            var target = (await objects.GetAsync(new RequestScope(resource, resource.Namespaced ? account.Namespace : null, name), null, ct)).Object;
            var uid = Uid(target);
            if (Str(reference["uid"]) is { Length: > 0 } wantedUid && wantedUid != uid)
            {
                throw StatusException.Conflict(resource.GroupResource, name, $"the UID in the bound object reference ({wantedUid}) does not match the UID in record. The object might have been deleted and then recreated");
            }

            reference["uid"] = uid;
            reference["apiVersion"] ??= "v1";
            if (kind == "Node")
            {
                node = (name, uid);
            }
            else
            {
                bound = (kind, name, uid);
                if (kind == "Pod" && Str(target["spec"]?["nodeName"]) is { Length: > 0 } nodeName)
                {
                    var nodes = registry.Find("", "v1", "nodes")!;
                    node = (nodeName, Uid((await objects.GetAsync(new RequestScope(nodes, null, nodeName), null, ct)).Object));
                }
            }
        }

        var expires = time.GetUtcNow().AddSeconds(expiration);
        var token = tokens.Issue(new ServiceAccountClaims(account.Namespace!, account.Name!, Uid(sa), audiences, expires, bound, node));
        spec["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]);
        spec["expirationSeconds"] = expiration;
        spec["boundObjectRef"] ??= null;
        return new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = account.Name, ["namespace"] = account.Namespace, ["creationTimestamp"] = Now() },
            ["spec"] = spec.DeepClone(),
            ["status"] = new JsonObject { ["token"] = token, ["expirationTimestamp"] = Timestamp(expires) },
        };
    }

    private JsonObject TokenReview(JsonObject spec)
    {
        var token = Str(spec["token"]);
        if (string.IsNullOrEmpty(token))
        {
            throw StatusException.BadRequest("token is required for TokenReview in authentication");
        }

        var wanted = Strings(spec["audiences"]);
        if (authenticator.AuthenticateToken(token, wanted) is not var (user, audiences))
        {
            return new JsonObject { ["user"] = new JsonObject(), ["error"] = "invalid bearer token" };
        }

        return new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = UserJson(user),
            ["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]),
        };
    }

    private async Task<JsonObject> AccessReviewAsync(UserInfo subject, JsonObject spec, RequestScope scope, CancellationToken ct)
    {
        var resourceAttributes = spec["resourceAttributes"] as JsonObject;
        var nonResourceAttributes = spec["nonResourceAttributes"] as JsonObject;
        var kind = scope.Resource.Kind;
        if ((resourceAttributes is null) == (nonResourceAttributes is null))
        {
            throw StatusException.Invalid(scope.Resource.Group, kind, string.Empty, [FieldError.Invalid(FieldPath.Root("spec").Child("resourceAttributes"), "null", "exactly one of nonResourceAttributes or resourceAttributes must be specified")]);
        }

        if (kind == "LocalSubjectAccessReview")
        {
            if (nonResourceAttributes is not null)
            {
                throw StatusException.Invalid(scope.Resource.Group, kind, string.Empty, [FieldError.Invalid(FieldPath.Root("spec").Child("nonResourceAttributes"), "{}", "disallowed on this kind of request")]);
            }

            var ns = Str(resourceAttributes!["namespace"]);
            if (!string.IsNullOrEmpty(ns) && ns != scope.Namespace)
            {
                throw StatusException.BadRequest($"spec.resourceAttributes.namespace must match metadata.namespace: \"{ns}\" and \"{scope.Namespace}\"");
            }

            resourceAttributes["namespace"] = scope.Namespace;
        }

        var attributes = resourceAttributes is not null
            ? new RequestAttributes(
                Text(resourceAttributes, "verb"),
                Text(resourceAttributes, "group"),
                Text(resourceAttributes, "version"),
                Text(resourceAttributes, "resource"),
                NullIfEmpty(Text(resourceAttributes, "subresource")),
                NullIfEmpty(Text(resourceAttributes, "namespace")),
                NullIfEmpty(Text(resourceAttributes, "name")))
            : new RequestAttributes(Text(nonResourceAttributes!, "verb"), Path: Text(nonResourceAttributes!, "path"));
        var (allowed, reason) = await authorizer.AuthorizeAsync(subject, attributes, ct);
        var status = new JsonObject { ["allowed"] = allowed };
        if (reason.Length > 0)
        {
            status["reason"] = reason;
        }

        return status;
    }

    private async Task<JsonObject> RulesReviewAsync(UserInfo user, JsonObject spec, CancellationToken ct)
    {
        var ns = Str(spec["namespace"]);
        if (string.IsNullOrEmpty(ns))
        {
            throw StatusException.Invalid("authorization.k8s.io", "SelfSubjectRulesReview", string.Empty, [FieldError.Required(FieldPath.Root("spec").Child("namespace"), "")]);
        }

        var (resourceRules, nonResourceRules, incomplete) = await authorizer.RulesForAsync(user, ns, ct);
        return new JsonObject
        {
            ["resourceRules"] = new JsonArray([.. resourceRules.Select(r => (JsonNode)new JsonObject
            {
                ["verbs"] = Array(r.Verbs),
                ["apiGroups"] = Array(r.ApiGroups ?? []),
                ["resources"] = Array(r.Resources ?? []),
            })]),
            ["nonResourceRules"] = new JsonArray([.. nonResourceRules.Select(r => (JsonNode)new JsonObject
            {
                ["verbs"] = Array(r.Verbs),
                ["nonResourceURLs"] = Array(r.NonResourceUrls ?? []),
            })]),
            ["incomplete"] = incomplete,
        };
    }

    /// <summary>The user a SubjectAccessReview asks about: spec.user/groups/uid/extra; at least a user or a group.</summary>
    private static UserInfo SubjectOf(ResourceDefinition resource, JsonObject spec)
    {
        var name = Str(spec["user"]) ?? string.Empty;
        var groups = Strings(spec["groups"]);
        if (name.Length == 0 && groups.Count == 0)
        {
            throw StatusException.Invalid(resource.Group, resource.Kind, string.Empty, [FieldError.Invalid(FieldPath.Root("spec").Child("user"), string.Empty, "at least one of user or group must be specified")]);
        }

        var extra = (spec["extra"] as JsonObject)?.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)Strings(p.Value), StringComparer.Ordinal);
        return new UserInfo(name, groups, Str(spec["uid"]), extra);
    }

    /// <summary>authentication.k8s.io UserInfo.</summary>
    private static JsonObject UserJson(UserInfo user)
    {
        var json = new JsonObject { ["username"] = user.Name };
        if (!string.IsNullOrEmpty(user.Uid))
        {
            json["uid"] = user.Uid;
        }

        json["groups"] = Array(user.Groups);
        if (user.Extra is { Count: > 0 } extra)
        {
            json["extra"] = new JsonObject(extra.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Array(p.Value))));
        }

        return json;
    }

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray list ? [.. list.Select(Str).OfType<string>()] : [];

    private static string Text(JsonObject obj, string name) => Str(obj[name]) ?? string.Empty;

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string Uid(JsonObject obj) => Str(obj["metadata"]?["uid"]) ?? string.Empty;

    private string Now() => Timestamp(time.GetUtcNow());

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
