using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Patching.ServerSideApply;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

public sealed partial class ResourceHandler
{
    private async Task CreateAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var format = Format(request, list: false);
        var options = WriteOptionsOf(request);
        options = options with { RecordFields = Recorder(scope, Patcher.FieldManager(request, "CreateOptions")) };
        var body = await RequestBody.ReadObjectAsync(request, ct);
        FieldValidation.Apply(context, scope.Resource, body, FieldValidation.ModeOf(request));
        var created = await objects.CreateAsync(StorageScope(scope), ToStorage(scope, body), options, ct);
        await writer.WriteObjectAsync(context.Response, 201, scope.Resource, created, format, request.Query["includeObject"], ct);
    }

    private async Task UpdateAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var format = Format(request, list: false);
        var options = WriteOptionsOf(request);
        options = options with { RecordFields = Recorder(scope, Patcher.FieldManager(request, "UpdateOptions")) };
        var body = await RequestBody.ReadObjectAsync(request, ct);
        if (scope.Subresource is null)
        {
            FieldValidation.Apply(context, scope.Resource, body, FieldValidation.ModeOf(request));
        }

        var (updated, created) = await objects.UpdateAsync(StorageScope(scope), current => ToStorage(scope, (JsonObject)body.DeepClone()), options, ct);
        await writer.WriteObjectAsync(context.Response, created ? 201 : 200, scope.Resource, updated, format, request.Query["includeObject"], ct);
    }

    private async Task PatchAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var format = Format(request, list: false);
        var options = WriteOptionsOf(request);
        var patcher = await Patcher.ReadAsync(request, scope.Resource, ct);
        if (!patcher.IsApply)
        {
            options = options with { RecordFields = Recorder(scope, patcher.Manager) };
        }

        var mode = FieldValidation.ModeOf(request);
        var (updated, created) = await objects.UpdateAsync(StorageScope(scope), stored =>
        {
            // Patches apply to the object as this version serves it.
            var current = stored is null ? null : scope.Resource.Present(stored);
            if (patcher.IsApply)
            {
                var applied = patcher.ApplyConfiguration(current, scope.Resource, scope.Subresource, Timestamp());
                FieldValidation.Apply(context, scope.Resource, applied, mode, current?.Object);
                return ToStorage(scope, applied);
            }

            var patched = patcher.Apply(current ?? throw StatusException.NotFound(scope.Resource.GroupResource, scope.Name!));
            if (scope.Subresource is null)
            {
                FieldValidation.Apply(context, scope.Resource, patched, mode, current.Object);
            }

            return ToStorage(scope, patched);
        }, options, ct, createIfMissing: patcher.IsApply && scope.Subresource is null);
        await writer.WriteObjectAsync(context.Response, created ? 201 : 200, scope.Resource, updated, format, request.Query["includeObject"], ct);
    }

    /// <summary>Where a write through this scope lands: a version stored as another writes through that one's resource.</summary>
    private RequestScope StorageScope(RequestScope scope) =>
        scope.Resource.Conversion?.StorageVersion is { } version ? scope with { Resource = registry.Find(scope.Resource.Group, version, scope.Resource.Plural)! } : scope;

    private static JsonObject ToStorage(RequestScope scope, JsonObject obj) => scope.Resource.Conversion?.ToStorage(obj) ?? obj;

    /// <summary>
    /// How an ordinary write (create, update, non-apply patch, a subresource's write) is recorded in the
    /// managed fields: as an Update of <paramref name="manager"/> through the request's version and
    /// subresource, once the store has the object as it will be written.
    /// </summary>
    internal Action<JsonObject, JsonObject?> Recorder(RequestScope scope, string manager)
    {
        var resource = scope.Resource;
        var schema = CustomResourcePatchSchema.For(resource);
        var fields = ServerSideApplier.ScopeOf(resource, scope.Subresource);
        var now = Timestamp();

        // kube compares a create with the kind's empty object: a built-in kind's spec and status are structs
        // that always exist; a custom resource's empty object has nothing, so its spec is added too.
        var empty = resource.Schema is null ? new JsonObject { ["spec"] = new JsonObject(), ["status"] = new JsonObject() } : null;
        return (updated, old) => ServerSideApplier.RecordUpdate(updated, old, schema, manager, resource.GroupVersion, scope.Subresource, now, fields, empty);
    }

    private async Task DeleteAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var format = Format(request, list: false);
        var options = await ReadDeleteOptionsAsync(request, ct);
        var (obj, deleted) = await objects.DeleteAsync(scope, options, ct);
        if (deleted && !ReturnsDeletedObject(scope))
        {
            await ResponseWriter.WriteJsonAsync(context.Response, 200, SuccessStatus(scope, obj), ct);
            return;
        }

        // Pending (graceful) deletion answers 200 with the object, as kubernetes does for pods and namespaces.
        await writer.WriteObjectAsync(context.Response, 200, scope.Resource, obj, format, request.Query["includeObject"], ct);
    }

    private async Task DeleteCollectionAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var format = Format(request, list: true);
        var options = await ReadDeleteOptionsAsync(request, ct);
        var matcher = new ObjectMatcher(scope.Resource, request.Query["labelSelector"], request.Query["fieldSelector"]);
        var list = await objects.ListAsync(scope, new ListOptions(), matcher.Matches, ct);
        var gone = new List<CachedObject>();
        foreach (var item in list.Items)
        {
            try
            {
                var (obj, _) = await objects.DeleteAsync(scope with { Namespace = scope.Resource.Namespaced ? item.Namespace : null, Name = item.Name }, options, ct);
                gone.Add(obj);
            }
            catch (StatusException ex) when (ex.Code == 404)
            {
                // deleted meanwhile: nothing to do
            }
        }

        await writer.WriteListAsync(context.Response, scope.Resource, new ListResult(gone, list.Revision, null, null), format, request.Query["includeObject"], ct);
    }

    /// <summary>kubernetes returns the deleted object for the registries with ReturnDeletedObject (pods, services, …) and a Status for the rest.</summary>
    private static bool ReturnsDeletedObject(RequestScope scope) => (scope.Resource.Group, scope.Resource.Plural) switch
    {
        ("", "pods" or "services" or "namespaces" or "serviceaccounts" or "persistentvolumeclaims" or "persistentvolumes") => true,
        ("storage.k8s.io", "storageclasses") => true,
        _ => false,
    };

    private static JsonObject SuccessStatus(RequestScope scope, CachedObject obj)
    {
        var details = new JsonObject { ["name"] = obj.Name };
        if (scope.Resource.Group.Length > 0)
        {
            details["group"] = scope.Resource.Group;
        }

        details["kind"] = scope.Resource.Plural;
        details["uid"] = obj.Object["metadata"]?["uid"]?.DeepClone();
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }

    /// <summary>DeleteOptions from the body (kubectl sends one) and the query string (which wins).</summary>
    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpRequest request, CancellationToken ct)
    {
        JsonObject? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var bytes = await RequestBody.ReadBytesAsync(request, ct);
            if (bytes.Length > 0)
            {
                body = RequestBody.Parse(bytes, RequestBody.MediaType(request) == "application/json") as JsonObject
                    ?? throw StatusException.BadRequest("DeleteOptions must be an object");
            }
        }

        var query = request.Query;
        long? grace = body?["gracePeriodSeconds"].AsInt64() is { } gl ? gl : null;
        if (!string.IsNullOrEmpty(query["gracePeriodSeconds"]))
        {
            grace = long.TryParse(query["gracePeriodSeconds"], out var q) ? q : throw StatusException.BadRequest("invalid gracePeriodSeconds");
        }

        var policy = query["propagationPolicy"].ToString();
        if (string.IsNullOrEmpty(policy))
        {
            policy = body?["propagationPolicy"]?.ToString();
            if (string.IsNullOrEmpty(policy) && body?["orphanDependents"].AsBoolean() is { } o)
            {
                policy = o ? "Orphan" : "Background";
            }
        }

        var dryRun = query["dryRun"].Count > 0 || body?["dryRun"] is JsonArray { Count: > 0 };
        return new DeleteOptions
        {
            GracePeriodSeconds = grace,
            PropagationPolicy = string.IsNullOrEmpty(policy) ? null : policy,
            PreconditionUid = body?["preconditions"]?["uid"]?.ToString(),
            PreconditionResourceVersion = body?["preconditions"]?["resourceVersion"]?.ToString(),
            DryRun = dryRun,
        };
    }
}
