using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Authentication;

/// <summary>
/// kube-apiserver's authenticator chain, in its order: x509 client certificates signed by the cluster's
/// client CA (CN = user, O = groups), then bearer tokens (the static token file, then extra token
/// authenticators such as the join token), then anonymous if allowed. Null = unauthenticated (401).
/// </summary>
public sealed class RequestAuthenticator(
    Func<X509Certificate2, UserInfo?> certificateAuthenticator,
    IReadOnlyDictionary<string, UserInfo> staticTokens,
    IReadOnlyList<Func<string, UserInfo?>> tokenAuthenticators,
    bool anonymousAuth)
{
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
            if (token.Length > 0)
            {
                foreach (var (known, user) in staticTokens)
                {
                    if (FixedTimeEquals(known, token))
                    {
                        return user;
                    }
                }

                foreach (var authenticate in tokenAuthenticators)
                {
                    if (authenticate(token) is { } fromToken)
                    {
                        return fromToken;
                    }
                }
            }

            return null; // a presented but unknown token is a 401 even when anonymous access is on
        }

        return anonymousAuth ? UserInfo.Anonymous : null;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
