using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Http;
using Lotse.ApiServer.Security;
using Lotse.ApiServer.Validation;
using Microsoft.AspNetCore.Http;

namespace Lotse.Server;

/// <summary>
/// How an agent on another host joins (K3s' flow): it fetches the CA from <c>/cacerts</c> without
/// trusting anyone, checks it against the hash pinned in its join token, then — over TLS it can now
/// verify — asks <c>/v1-lotse/client-kubelet</c> for its node credentials with the token's secret.
/// It gets a client certificate for <c>system:node:&lt;name&gt;</c> in <c>system:nodes</c> and never
/// needs the admin kubeconfig.
/// </summary>
internal static class NodeJoinEndpoints
{
    public const string CaCertsPath = "/cacerts";
    public const string KubeletClientPath = "/v1-lotse/client-kubelet";
    private const int MaxBody = 16 * 1024;

    public static IReadOnlyDictionary<string, RequestDelegate> Create(ClusterPki pki, JoinToken token) => new Dictionary<string, RequestDelegate>(StringComparer.Ordinal)
    {
        [CaCertsPath] = context => Guarded(context, async () =>
        {
            RequireMethod(context, "GET");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(pki.ServerCaPem, context.RequestAborted);
        }),
        [KubeletClientPath] = context => Guarded(context, async () =>
        {
            RequireMethod(context, "POST");
            var authorization = context.Request.Headers.Authorization.ToString();
            if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !token.SecretMatches(authorization["Bearer ".Length..]))
            {
                throw StatusException.Unauthorized("a valid join token is required");
            }

            var (name, ip) = await ReadNodeAsync(context.Request, context.RequestAborted);
            var (certificate, key) = pki.IssueClientCertificate($"system:node:{name}", ["system:nodes"], TimeSpan.FromDays(365));
            var (servingCertificate, servingKey) = pki.IssueServingCertificate(name, ip is null ? [name] : [name, ip], TimeSpan.FromDays(365));
            var answer = new JsonObject
            {
                ["nodeName"] = name,
                ["certificate"] = certificate,
                ["key"] = key,
                ["ca"] = pki.ServerCaPem,
                ["servingCertificate"] = servingCertificate,
                ["servingKey"] = servingKey,
                ["clientCa"] = pki.ClientCaPem,
            };
            await ResponseWriter.WriteJsonAsync(context.Response, 200, answer, context.RequestAborted);
        }),
    };

    private static async Task Guarded(HttpContext context, Func<Task> handle)
    {
        try
        {
            await handle();
        }
        catch (StatusException e) when (!context.Response.HasStarted)
        {
            await ResponseWriter.WriteJsonAsync(context.Response, e.Code, e.ToJson(), context.RequestAborted);
        }
    }

    private static void RequireMethod(HttpContext context, string method)
    {
        if (context.Request.Method != method)
        {
            throw StatusException.MethodNotAllowed($"{context.Request.Path} accepts {method} only");
        }
    }

    /// <summary>The joining node's name and (optional) IP, for its certificates.</summary>
    private static async Task<(string Name, string? Ip)> ReadNodeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > MaxBody)
        {
            throw StatusException.RequestEntityTooLarge($"limit is {MaxBody} bytes");
        }

        var buffer = new byte[MaxBody + 1];
        var length = 0;
        int read;
        while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
            if (length > MaxBody)
            {
                throw StatusException.RequestEntityTooLarge($"limit is {MaxBody} bytes");
            }
        }

        string? name;
        string? ip;
        try
        {
            var body = JsonNode.Parse(buffer.AsSpan(0, length));
            name = body?["nodeName"]?.GetValue<string>();
            ip = body?["nodeIp"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw StatusException.BadRequest($"the body must be JSON with a nodeName: {e.Message}");
        }

        if (string.IsNullOrEmpty(name))
        {
            throw StatusException.BadRequest("nodeName is required");
        }

        if (Names.IsDns1123Subdomain(name) is { Count: > 0 } errors)
        {
            throw StatusException.BadRequest($"nodeName \"{name}\" is invalid: {string.Join("; ", errors)}");
        }

        if (ip is not null && !System.Net.IPAddress.TryParse(ip, out _))
        {
            throw StatusException.BadRequest($"nodeIp \"{ip}\" is not an IP address");
        }

        return (name, ip);
    }
}
