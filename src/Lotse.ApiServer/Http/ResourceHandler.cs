using System.Globalization;
using Lotse.ApiServer.Authentication;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Reviews;
using Lotse.ApiServer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Lotse.ApiServer.Http;

/// <summary>
/// The generic REST handler: maps an HTTP request on a resource URL to a verb of the
/// <see cref="ObjectStore"/> and writes the answer (kubernetes' endpoints/handlers package).
/// </summary>
public sealed partial class ResourceHandler(ResourceRegistry registry, ObjectStore objects, ResponseWriter writer, TimeProvider time, IHostApplicationLifetime lifetime, NodeProxy nodes, ReviewHandler reviews)
{
    public async Task HandleAsync(HttpContext context, string group, string version, string[] segments)
    {
        var request = context.Request;
        var path = ApiPath.Parse(group, version, segments, plural => registry.Find(group, version, plural)?.Namespaced == true)
            ?? throw StatusException.NotFoundPath();
        var resource = registry.Find(group, version, path.Resource) ?? throw StatusException.NotFoundPath();
        if (path.Namespace is not null && !resource.Namespaced)
        {
            throw StatusException.NotFoundPath();
        }

        // namespaces/{name} is the namespace object itself.
        var scope = new RequestScope(resource, resource.Namespaced ? path.Namespace : null, path.Name, path.Subresource);
        if (path.Subresource is not null && !resource.HasSubresource(path.Subresource))
        {
            throw StatusException.NotFoundPath();
        }

        var query = request.Query;
        var ct = context.RequestAborted;
        var method = request.Method;
        if (path.Name is null)
        {
            switch (method)
            {
                case "GET" when path.Watch || IsTrue(query["watch"]):
                    Require(resource, "watch");
                    await WatchAsync(context, scope, ct);
                    return;
                case "GET":
                    Require(resource, "list");
                    await ListAsync(context, scope, ct);
                    return;
                case "POST" when scope.Namespace is not null || !resource.Namespaced:
                    Require(resource, "create");
                    await (resource.Stored ? CreateAsync(context, scope, ct) : AnswerAsync(context, scope, ct));
                    return;
                case "DELETE":
                    Require(resource, "deletecollection");
                    await DeleteCollectionAsync(context, scope, ct);
                    return;
                default:
                    throw StatusException.MethodNotSupported(resource.GroupResource, method);
            }
        }

        if (path.Watch)
        {
            throw StatusException.NotFoundPath();
        }

        if (path.Subresource is { } sub && sub != "status")
        {
            await SubresourceAsync(context, scope, sub, ct);
            return;
        }

        switch (method)
        {
            case "GET":
                Require(resource, "get");
                var obj = await objects.GetAsync(scope, query["resourceVersion"], ct);
                await writer.WriteObjectAsync(context.Response, 200, resource, obj, Format(request, list: false), query["includeObject"], ct);
                return;
            case "PUT":
                Require(resource, "update");
                await UpdateAsync(context, scope, ct);
                return;
            case "PATCH":
                Require(resource, "patch");
                await PatchAsync(context, scope, ct);
                return;
            case "DELETE" when path.Subresource is null:
                Require(resource, "delete");
                await DeleteAsync(context, scope, ct);
                return;
            default:
                throw StatusException.MethodNotSupported(resource.GroupResource, method);
        }
    }

    /// <summary>
    /// A create of a kind that is answered, not stored: reviews (201 with the status filled in), and a
    /// core/v1 Binding posted to <c>bindings</c>, which binds the pod it names as pods/binding does.
    /// </summary>
    private async Task AnswerAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, ct);
        if (scope.Resource.Kind == "Binding")
        {
            var pod = ObjectStore.GetString(body["metadata"] as System.Text.Json.Nodes.JsonObject, "name");
            if (string.IsNullOrEmpty(pod))
            {
                throw StatusException.Invalid("", "Binding", string.Empty, [FieldError.Required(FieldPath.Root("metadata").Child("name"), "name or generateName is required")]);
            }

            await BindAsync(context, new RequestScope(registry.Find("", "v1", "pods")!, scope.Namespace, pod, "binding"), body, ct);
            return;
        }

        var user = (UserInfo)context.Items[typeof(UserInfo)]!;
        await ResponseWriter.WriteJsonAsync(context.Response, 201, await reviews.ReviewAsync(scope, body, user, ct), ct);
    }

    private static void Require(ResourceDefinition resource, string verb)
    {
        if (!resource.Verbs.Contains(verb))
        {
            throw StatusException.MethodNotSupported(resource.GroupResource, verb);
        }
    }

    internal static OutputFormat Format(HttpRequest request, bool list) =>
        OutputFormat.Negotiate(request.Headers.Accept.ToString(), list);

    internal static bool IsTrue(string? value) => value is "true" or "1" or "True";

    internal static WriteOptions WriteOptionsOf(HttpRequest request)
    {
        var dryRun = request.Query["dryRun"];
        foreach (var value in dryRun)
        {
            if (value != "All")
            {
                throw StatusException.BadRequest($"Invalid dry run value: \"{value}\": supported values: \"All\"");
            }
        }

        return new WriteOptions(dryRun.Count > 0, request.Query["fieldManager"]);
    }

    internal static int? IntQuery(HttpRequest request, string name)
    {
        var value = request.Query[name].ToString();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw StatusException.BadRequest($"invalid value for {name}: \"{value}\"");
    }
}
