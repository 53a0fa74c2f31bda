using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Authentication;

/// <summary>
/// kube-apiserver's authenticator chain, in its order: x509 client certificates signed by the cluster's
/// client CA (CN = user, O = groups), then bearer tokens (the static token file, extra token
/// authenticators such as the join token, service-account tokens), then anonymous if allowed. Null = unauthenticated (401).
/// </summary>
public sealed class RequestAuthenticator(
    Func<X509Certificate2, UserInfo?> certificateAuthenticator,
    IReadOnlyDictionary<string, UserInfo> staticTokens,
    IReadOnlyList<Func<string, UserInfo?>> tokenAuthenticators,
    bool anonymousAuth,
    ServiceAccountAuthenticator serviceAccounts)
{
    /// <summary>The audiences the API server itself answers to (tokens without an audience of their own are valid for these only).</summary>
    public IReadOnlyList<string> ApiAudiences => serviceAccounts.Tokens.Audiences;

    public UserInfo? Authenticate(HttpContext context)
    {
        if (context.Connection.ClientCertificate is { } certificate && certificateAuthenticator(certificate) is { } fromCertificate)
        {
            return fromCertificate;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization[7..].Trim();
            if (token.Length > 0 && AuthenticateToken(token) is { } fromToken)
            {
                return fromToken.User;
            }

            return null; // a presented but unknown token is a 401 even when anonymous access is on
        }

        return anonymousAuth ? UserInfo.Anonymous : null;
    }

    /// <summary>
    /// A bearer token's user (kube's token authenticator union), for <paramref name="audiences"/> (the API's
    /// own when empty): service-account tokens carry their audiences; the static, join and other tokens are
    /// valid only for the API's own audiences, as kube treats audience-unaware authenticators.
    /// </summary>
    public (UserInfo User, IReadOnlyList<string> Audiences)? AuthenticateToken(string token, IReadOnlyList<string>? audiences = null)
    {
        var wanted = audiences is { Count: > 0 } ? audiences : ApiAudiences;
        var implicitAudiences = wanted.Intersect(ApiAudiences, StringComparer.Ordinal).ToList();
        if (implicitAudiences.Count > 0)
        {
            foreach (var (known, user) in staticTokens)
            {
                if (FixedTimeEquals(known, token))
                {
                    return (user, implicitAudiences);
                }
            }

            foreach (var authenticate in tokenAuthenticators)
            {
                if (authenticate(token) is { } user)
                {
                    return (user, implicitAudiences);
                }
            }
        }

        return token.Count(c => c == '.') == 2 ? serviceAccounts.Authenticate(token, wanted) : null;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
