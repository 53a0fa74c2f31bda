using System.Text;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Authentication;
using Lotse.ApiServer.Authorization;
using Lotse.ApiServer.Discovery;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Http;
using Lotse.ApiServer.OpenApi;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lotse.ApiServer;

/// <summary>
/// The API server's single request entry: authenticate, authorize, route by path (version, health,
/// discovery, resources), and turn every failure into a Kubernetes Status — never a bare 500 page.
/// </summary>
public sealed partial class ApiRouter(
    ResourceHandler resources,
    DiscoveryDocuments discovery,
    OpenApiDocuments openApi,
    CacheSet caches,
    IStore store,
    RequestAuthenticator authenticator,
    IAuthorizer authorizer,
    ILogger<ApiRouter> logger)
{
    public const string AggregatedV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    public const string AggregatedV2Beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

    public async Task InvokeAsync(HttpContext context)
    {
        // Like kube-apiserver, compress only large responses (lists decide for themselves): gzip of a
        // small object costs more CPU than the bytes it saves.
        SetCompression(context, compress: false);
        try
        {
            var user = authenticator.Authenticate(context) ?? throw StatusException.Unauthorized();
            context.Items[typeof(UserInfo)] = user;
            await RouteAsync(context, user);
        }
        catch (StatusException ex)
        {
            await WriteStatusAsync(context, ex);
        }
        catch (BadHttpRequestException ex)
        {
            await WriteStatusAsync(context, ex.StatusCode == 413
                ? StatusException.RequestEntityTooLarge($"limit is {RequestBody.MaxBytes}")
                : StatusException.BadRequest(ex.Message));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
        catch (Exception ex)
        {
            LogUnhandled(ex, context.Request.Method, context.Request.Path);
            await WriteStatusAsync(context, StatusException.InternalError($"an internal error occurred: {ex.Message}"));
        }
    }

    internal static void SetCompression(HttpContext context, bool compress)
    {
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpsCompressionFeature>() is { } feature)
        {
            feature.Mode = compress ? Microsoft.AspNetCore.Http.Features.HttpsCompressionMode.Compress : Microsoft.AspNetCore.Http.Features.HttpsCompressionMode.DoNotCompress;
        }
    }

    private static async Task WriteStatusAsync(HttpContext context, StatusException ex)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        if (ex.RetryAfterSeconds is { } retry)
        {
            context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await ResponseWriter.WriteJsonAsync(context.Response, ex.Code, ex.ToJson(), context.RequestAborted);
    }

    private async Task RouteAsync(HttpContext context, UserInfo user)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var ct = context.RequestAborted;

        if (segments.Length > 0 && segments[0] is "api" or "apis")
        {
            await AuthorizeResourceAsync(user, request, segments, ct);
        }
        else
        {
            await AuthorizeAsync(user, new RequestAttributes(request.Method.ToLowerInvariant(), Path: path), ct);
        }

        switch (segments)
        {
            case ["version"]:
                await ResponseWriter.WriteJsonAsync(context.Response, 200, VersionInfo.ToJson(), ct);
                return;
            case ["healthz" or "livez" or "readyz", ..]:
                await HealthAsync(context, segments, ct);
                return;
            case ["metrics"]:
                // Prometheus text: this process's controllers, scheduler and work queues, and the runtime.
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(context.Response.Body, ct);
                return;
            case ["api"]:
                await DiscoveryAsync(context, core: true, () => discovery.ApiVersions(), ct);
                return;
            case ["apis"]:
                await DiscoveryAsync(context, core: false, () => discovery.ApiGroupList(), ct);
                return;
            case ["api", var v]:
                await WriteOrNotFoundAsync(context, discovery.ApiResourceList("", v), ct);
                return;
            case ["apis", var g]:
                await WriteOrNotFoundAsync(context, discovery.ApiGroup(g), ct);
                return;
            case ["apis", var g, var v]:
                await WriteOrNotFoundAsync(context, discovery.ApiResourceList(g, v), ct);
                return;
            case ["openapi", "v3"]:
                await ResponseWriter.WriteJsonAsync(context.Response, 200, openApi.V3Index(), ct);
                return;
            case ["openapi", "v3", .. var gv]:
                await OpenApiV3Async(context, string.Join('/', gv), ct);
                return;
            case ["openapi", "v2"]:
                await OpenApiV2Async(context, ct);
                return;
            case ["api", var v, .. var rest]:
                await resources.HandleAsync(context, "", v, rest);
                return;
            case ["apis", var g, var v, .. var rest]:
                await resources.HandleAsync(context, g, v, rest);
                return;
            default:
                throw StatusException.NotFoundPath();
        }
    }

    private async Task AuthorizeResourceAsync(UserInfo user, HttpRequest request, string[] segments, CancellationToken ct)
    {
        var coreOffset = segments[0] == "api" ? 2 : 3;
        var verb = request.Method switch
        {
            "GET" or "HEAD" => segments.Length > coreOffset + 1 ? "get" : "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => request.Method.ToLowerInvariant(),
        };
        var attributes = new RequestAttributes(verb, Path: request.Path.Value);
        if (segments.Length > coreOffset)
        {
            attributes = attributes with
            {
                Group = segments[0] == "api" ? string.Empty : segments[1],
                Version = segments[coreOffset - 1],
                Resource = segments[coreOffset],
            };
        }

        await AuthorizeAsync(user, attributes, ct);
    }

    private async Task AuthorizeAsync(UserInfo user, RequestAttributes attributes, CancellationToken ct)
    {
        var (allowed, reason) = await authorizer.AuthorizeAsync(user, attributes, ct);
        if (!allowed)
        {
            throw StatusException.Forbidden($"User \"{user.Name}\" cannot {attributes.Verb} path \"{attributes.Path}\": {reason}");
        }
    }

    /// <summary>/api and /apis: aggregated discovery when the client asks for it (exact media types), else legacy.</summary>
    private async Task DiscoveryAsync(HttpContext context, bool core, Func<JsonObject> legacy, CancellationToken ct)
    {
        foreach (var range in context.Request.Headers.Accept.ToString().Split(','))
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries);
            var parameters = parts.Skip(1).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            if (parts[0] == "application/json"
                && parameters.GetValueOrDefault("g") == "apidiscovery.k8s.io"
                && parameters.GetValueOrDefault("as") == "APIGroupDiscoveryList"
                && parameters.GetValueOrDefault("v") is "v2" or "v2beta1")
            {
                var version = parameters["v"];
                context.Response.Headers.Vary = "Accept";
                await ResponseWriter.WriteJsonAsync(context.Response, 200, discovery.Aggregated(core, version), ct, version == "v2" ? AggregatedV2 : AggregatedV2Beta1);
                return;
            }

            if (parts[0] is "application/json" or "*/*" or "application/*" && !parameters.ContainsKey("as"))
            {
                break;
            }
        }

        context.Response.Headers.Vary = "Accept";
        await ResponseWriter.WriteJsonAsync(context.Response, 200, legacy(), ct);
    }

    private async Task OpenApiV3Async(HttpContext context, string groupVersion, CancellationToken ct)
    {
        var document = openApi.V3Document(groupVersion) ?? throw StatusException.NotFoundPath();
        var etag = $"\"{OpenApiDocuments.Hash(document)}\"";
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = context.Request.Query.ContainsKey("hash") ? "public, immutable" : "no-cache, private";
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            context.Response.StatusCode = 304;
            return;
        }

        await ResponseWriter.WriteJsonAsync(context.Response, 200, document, ct);
    }

    /// <summary>/openapi/v2: gnostic protobuf for kubectl (which cannot read it as JSON), JSON for everyone else.</summary>
    private async Task OpenApiV2Async(HttpContext context, CancellationToken ct)
    {
        var document = openApi.V2Document();
        if (context.Request.Headers.Accept.ToString().Contains("application/com.github.proto-openapi.spec.v2", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = GnosticEncoder.ContentType;
            await context.Response.Body.WriteAsync(GnosticEncoder.Encode(document), ct);
            return;
        }

        await ResponseWriter.WriteJsonAsync(context.Response, 200, document, ct);
    }

    private static Task WriteOrNotFoundAsync(HttpContext context, JsonObject? document, CancellationToken ct) =>
        document is null ? throw StatusException.NotFoundPath() : ResponseWriter.WriteJsonAsync(context.Response, 200, document, ct);

    /// <summary>/healthz, /livez, /readyz (with ?verbose and /{check}), as kube-apiserver answers them.</summary>
    private async Task HealthAsync(HttpContext context, string[] segments, CancellationToken ct)
    {
        var checks = new List<(string Name, Func<Task<bool>> Check)>
        {
            ("ping", () => Task.FromResult(true)),
            ("etcd", async () =>
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(2));
                    await store.GetCurrentRevisionAsync(timeout.Token);
                    return true;
                }
                catch (Exception ex) when (ex is StoreException or OperationCanceledException)
                {
                    return false;
                }
            }),
        };
        if (segments[0] == "readyz")
        {
            checks.Add(("informer-sync", () => Task.FromResult(caches.Ready.IsCompletedSuccessfully)));
        }

        if (segments.Length > 1)
        {
            checks = [.. checks.Where(c => c.Name == segments[1])];
            if (checks.Count == 0)
            {
                throw StatusException.NotFoundPath();
            }
        }

        var report = new StringBuilder();
        var healthy = true;
        foreach (var (name, check) in checks)
        {
            var ok = await check();
            healthy &= ok;
            report.Append(ok ? "[+]" : "[-]").Append(name).Append(ok ? " ok\n" : " failed: reason withheld\n");
        }

        var verbose = context.Request.Query.ContainsKey("verbose");
        context.Response.StatusCode = healthy ? 200 : 500;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (verbose || !healthy)
        {
            report.Append(healthy ? $"{segments[0]} check passed\n" : $"{segments[0]} check failed\n");
            await context.Response.WriteAsync(report.ToString(), ct);
        }
        else
        {
            await context.Response.WriteAsync("ok", ct);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "Unhandled error serving {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, string? path);
}
