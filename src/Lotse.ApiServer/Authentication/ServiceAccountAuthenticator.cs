using Lotse.ApiServer.Registry;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Authentication;

/// <summary>
/// Authenticates service-account tokens: a valid signature and audience (<see cref="ServiceAccountTokens"/>),
/// and — like kube's legacy-free validator — the account still exists with the token's UID, and so does
/// the pod or secret the token is bound to. Objects are read from the watch cache, so this costs no store
/// round trip.
/// </summary>
public sealed class ServiceAccountAuthenticator(ServiceAccountTokens tokens, CacheSet caches, ResourceRegistry registry)
{
    public ServiceAccountTokens Tokens => tokens;

    /// <returns>The account's user and the audiences the token was accepted for; null when it is not a valid token of this cluster.</returns>
    public (UserInfo User, IReadOnlyList<string> Audiences)? Authenticate(string token, IReadOnlyList<string>? audiences = null)
    {
        if (tokens.Validate(token, audiences) is not { } claims
            || Uid("serviceaccounts", claims.Namespace, claims.Name) != claims.Uid
            || (claims.BoundObject is var (kind, name, uid) && Uid(kind == "Pod" ? "pods" : "secrets", claims.Namespace, name) != uid))
        {
            return null;
        }

        return (ServiceAccountTokens.User(claims), claims.Audiences);
    }

    /// <summary>The UID of a core/v1 object as the cache holds it; null when it does not exist.</summary>
    public string? Uid(string plural, string @namespace, string name)
    {
        var resource = registry.Find("", "v1", plural);
        return resource is not null && caches.Find(resource.KeyPrefix) is { } cache && cache.Objects.TryGetValue(resource.Key(@namespace, name), out var obj)
            ? obj.Object["metadata"]?["uid"]?.GetValue<string>()
            : null;
    }
}
