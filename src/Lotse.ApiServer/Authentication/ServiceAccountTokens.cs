using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Authentication;

/// <summary>Who a service-account token speaks for: the account, and the object it is bound to (a pod or secret), if any.</summary>
public sealed record ServiceAccountClaims(
    string Namespace,
    string Name,
    string Uid,
    IReadOnlyList<string> Audiences,
    DateTimeOffset Expires,
    (string Kind, string Name, string Uid)? BoundObject = null,
    (string Name, string Uid)? Node = null);

/// <summary>
/// Kubernetes' bound service-account tokens: RS256 JWTs signed with the cluster's service-account key
/// (K3s keeps it as <c>service.key</c> beside the certificates), with kube's claims — <c>iss</c>,
/// <c>sub</c> = <c>system:serviceaccount:NS:NAME</c>, <c>aud</c>, <c>exp</c>/<c>iat</c>/<c>nbf</c>,
/// <c>jti</c> and the private <c>kubernetes.io</c> claim naming the account, the bound pod or secret and
/// its node. Issued through <c>serviceaccounts/{name}/token</c> (TokenRequest); <see cref="Validate"/>
/// checks signature, issuer, time and audience — whether the account and bound object still exist is
/// the caller's check (it needs the API's objects).
/// </summary>
public sealed class ServiceAccountTokens : IDisposable
{
    /// <summary>Clock skew tolerated on exp/nbf, as kube's validator allows.</summary>
    private static readonly TimeSpan Leeway = TimeSpan.FromMinutes(1);

    private readonly RSA _key;
    private readonly string _keyId;
    private readonly TimeProvider _time;

    public ServiceAccountTokens(RSA key, string issuer, TimeProvider time)
    {
        _key = key;
        _time = time;
        Issuer = issuer;
        Audiences = [issuer];
        _keyId = Base64Url(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The <c>iss</c> of every token (kube's --service-account-issuer; K3s' default).</summary>
    public string Issuer { get; }

    /// <summary>The API server's own audiences (kube's --api-audiences default: the issuer).</summary>
    public IReadOnlyList<string> Audiences { get; }

    /// <summary>Loads <c>service.key</c> from the certificate folder, creating it (RSA 2048, 0600) the first time.</summary>
    public static ServiceAccountTokens LoadOrCreate(string tlsDir, string clusterDomain, TimeProvider time)
    {
        var path = Path.Combine(tlsDir, "service.key");
        var key = RSA.Create();
        try
        {
            if (File.Exists(path))
            {
                key.ImportFromPem(File.ReadAllText(path));
            }
            else
            {
                key.KeySize = 2048;
                Directory.CreateDirectory(tlsDir);
                var temp = path + ".tmp";
                File.WriteAllText(temp, key.ExportPkcs8PrivateKeyPem());
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Move(temp, path, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new StartupException($"cannot load the service-account key {path}: {e.Message}");
        }

        return new ServiceAccountTokens(key, $"https://kubernetes.default.svc.{clusterDomain}", time);
    }

    public static string UserName(string @namespace, string name) => $"system:serviceaccount:{@namespace}:{name}";

    /// <summary>kube's user for a service account: its name, the account's UID, the service-account groups, and the bound pod as extra.</summary>
    public static UserInfo User(ServiceAccountClaims claims)
    {
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (claims.BoundObject is ("Pod", var podName, var podUid))
        {
            extra["authentication.kubernetes.io/pod-name"] = [podName];
            extra["authentication.kubernetes.io/pod-uid"] = [podUid];
        }

        if (claims.Node is var (nodeName, nodeUid))
        {
            extra["authentication.kubernetes.io/node-name"] = [nodeName];
            extra["authentication.kubernetes.io/node-uid"] = [nodeUid];
        }

        return new UserInfo(
            UserName(claims.Namespace, claims.Name),
            ["system:serviceaccounts", $"system:serviceaccounts:{claims.Namespace}", UserInfo.Authenticated],
            claims.Uid,
            extra);
    }

    /// <summary>Signs a token for <paramref name="claims"/>; returns it with its expiry.</summary>
    public string Issue(ServiceAccountClaims claims)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var kubernetes = new JsonObject
        {
            ["namespace"] = claims.Namespace,
            ["serviceaccount"] = new JsonObject { ["name"] = claims.Name, ["uid"] = claims.Uid },
        };
        if (claims.BoundObject is var (kind, boundName, boundUid))
        {
            kubernetes[kind.ToLowerInvariant()] = new JsonObject { ["name"] = boundName, ["uid"] = boundUid };
        }

        if (claims.Node is var (nodeName, nodeUid))
        {
            kubernetes["node"] = new JsonObject { ["name"] = nodeName, ["uid"] = nodeUid };
        }

        var payload = new JsonObject
        {
            ["aud"] = new JsonArray([.. claims.Audiences.Select(a => (JsonNode)a)]),
            ["exp"] = claims.Expires.ToUnixTimeSeconds(),
            ["iat"] = now,
            ["iss"] = Issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = kubernetes,
            ["nbf"] = now,
            ["sub"] = UserName(claims.Namespace, claims.Name),
        };
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = _keyId };
        var signed = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(header))}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload))}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signed}.{Base64Url(signature)}";
    }

    /// <summary>
    /// The claims of a token this cluster signed, still valid now, for one of <paramref name="audiences"/>
    /// (the API's own when null); null for anything else — a foreign, tampered, expired or malformed token.
    /// </summary>
    public ServiceAccountClaims? Validate(string token, IReadOnlyList<string>? audiences = null)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || !TryDecode(parts[0], out var headerBytes) || !TryDecode(parts[1], out var payloadBytes) || !TryDecode(parts[2], out var signature))
        {
            return null;
        }

        try
        {
            if (JsonNode.Parse(headerBytes)?["alg"]?.GetValue<string>() != "RS256"
                || !_key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return null;
            }

            var payload = JsonNode.Parse(payloadBytes) as JsonObject;
            var now = _time.GetUtcNow();
            if (payload?["iss"]?.GetValue<string>() != Issuer
                || payload["exp"]?.GetValue<long>() is not { } exp || DateTimeOffset.FromUnixTimeSeconds(exp) + Leeway < now
                || (payload["nbf"]?.GetValue<long>() is { } nbf && DateTimeOffset.FromUnixTimeSeconds(nbf) - Leeway > now)
                || payload["kubernetes.io"] is not JsonObject kubernetes)
            {
                return null;
            }

            var tokenAudiences = payload["aud"] switch
            {
                JsonArray list => list.Select(a => a?.GetValue<string>()).OfType<string>().ToList(),
                JsonValue single => [single.GetValue<string>()],
                _ => [],
            };
            var wanted = audiences ?? Audiences;
            var granted = tokenAudiences.Intersect(wanted, StringComparer.Ordinal).ToList();
            if (granted.Count == 0)
            {
                return null;
            }

            var account = kubernetes["serviceaccount"];
            var ns = kubernetes["namespace"]?.GetValue<string>();
            var name = account?["name"]?.GetValue<string>();
            var uid = account?["uid"]?.GetValue<string>();
            if (ns is null || name is null || uid is null || payload["sub"]?.GetValue<string>() != UserName(ns, name))
            {
                return null;
            }

            (string, string, string)? bound = null;
            foreach (var kind in (string[])["Pod", "Secret"])
            {
                if (kubernetes[kind.ToLowerInvariant()] is JsonObject o && o["name"]?.GetValue<string>() is { } n && o["uid"]?.GetValue<string>() is { } u)
                {
                    bound = (kind, n, u);
                }
            }

            (string, string)? node = kubernetes["node"] is JsonObject nodeClaim && nodeClaim["name"]?.GetValue<string>() is { } nodeName
                ? (nodeName, nodeClaim["uid"]?.GetValue<string>() ?? string.Empty)
                : null;
            return new ServiceAccountClaims(ns, name, uid, granted, DateTimeOffset.FromUnixTimeSeconds(exp), bound, node);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or CryptographicException)
        {
            return null;
        }
    }

    public void Dispose() => _key.Dispose();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecode(string text, out byte[] bytes)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += (base64.Length % 4) switch { 2 => "==", 3 => "=", _ => string.Empty };
        bytes = new byte[base64.Length];
        if (text.Length == 0 || !Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }

        bytes = bytes[..written];
        return true;
    }
}
