using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Patching;
using Lotse.ApiServer.Patching.ServerSideApply;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

/// <summary>A PATCH request's body and type, applied to the current object inside the update loop (so a retry re-applies it).</summary>
public sealed class Patcher
{
    private readonly string _type;
    private readonly JsonNode _patch;
    private readonly PatchSchema _schema;

    private Patcher(string type, JsonNode patch, PatchSchema schema)
    {
        _type = type;
        _patch = patch;
        _schema = schema;
    }

    /// <summary>Whether this is a server-side apply (which may create the object).</summary>
    public bool IsApply => _type == PatchTypes.ApplyPatchYaml;

    /// <summary>Who writes (the <c>fieldManager</c> parameter, else the user agent's program name, as kube derives it).</summary>
    public string Manager { get; private init; } = string.Empty;

    public bool Force { get; private init; }

    public static async Task<Patcher> ReadAsync(HttpRequest request, ResourceDefinition resource, CancellationToken cancellationToken)
    {
        var type = RequestBody.MediaType(request);
        if (type is "application/apply-patch+cbor")
        {
            throw StatusException.UnsupportedMediaType("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");
        }

        if (type is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json" or PatchTypes.ApplyPatchYaml))
        {
            throw StatusException.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{type}\")");
        }

        var apply = type == PatchTypes.ApplyPatchYaml;
        var force = request.Query["force"].ToString();
        if (force.Length > 0 && !apply)
        {
            throw StatusException.BadRequest("force is not allowed for non-apply patches");
        }

        var manager = FieldManager(request);
        if (apply && request.Query["fieldManager"].ToString().Length == 0)
        {
            throw StatusException.BadRequest("fieldManager is required for apply requests");
        }

        var bytes = await RequestBody.ReadBytesAsync(request, cancellationToken);
        var patch = RequestBody.Parse(bytes, json: !apply) ?? throw StatusException.BadRequest("the patch is null");
        if (type == "application/strategic-merge-patch+json" && resource.Group.Length > 0 && !IsBuiltInGroup(resource.Group))
        {
            throw StatusException.UnsupportedMediaType("strategic merge patch is not supported for custom resources; use a JSON merge patch");
        }

        if (apply)
        {
            CheckApplied(patch, resource);
        }

        return new Patcher(type, patch, PatchSchema.For(resource.Group, resource.Kind)) { Manager = manager, Force = force == "true" };
    }

    /// <summary>The writer's name: <c>fieldManager</c> (at most 128 printable characters), else the program name in the User-Agent.</summary>
    public static string FieldManager(HttpRequest request)
    {
        var manager = request.Query["fieldManager"].ToString();
        if (manager.Length > 0)
        {
            if (manager.Length > 128 || manager.Any(char.IsControl))
            {
                throw StatusException.BadRequest($"fieldManager: Invalid value: \"{manager}\": must be no more than 128 characters and printable");
            }

            return manager;
        }

        var agent = request.Headers.UserAgent.ToString();
        var slash = agent.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? agent[..slash] : agent.Length > 0 ? agent : "unknown";
    }

    /// <summary>An applied configuration names the kind and version of the URL (kube refuses others before anything is written).</summary>
    private static void CheckApplied(JsonNode patch, ResourceDefinition resource)
    {
        if (patch is not JsonObject obj)
        {
            throw StatusException.BadRequest("the applied configuration must be an object");
        }

        var apiVersion = ObjectStore.GetString(obj, "apiVersion");
        var kind = ObjectStore.GetString(obj, "kind");
        if (string.IsNullOrEmpty(apiVersion) || string.IsNullOrEmpty(kind))
        {
            throw StatusException.BadRequest("Object 'Kind' is missing in the applied configuration, or its apiVersion");
        }

        if (apiVersion != resource.GroupVersion)
        {
            throw StatusException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({resource.GroupVersion})");
        }

        if (kind != resource.Kind)
        {
            throw StatusException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({resource.Kind})");
        }
    }

    private static bool IsBuiltInGroup(string group) => group is "apps" or "batch" or "autoscaling" or "policy" or "coordination.k8s.io" or "discovery.k8s.io"
        or "events.k8s.io" or "networking.k8s.io" or "rbac.authorization.k8s.io" or "scheduling.k8s.io" or "storage.k8s.io";

    /// <summary>
    /// A server-side apply of the configuration onto the object as it is now (or onto nothing: the
    /// apply creates it); conflicts with other managers are a 409 with kube's causes.
    /// </summary>
    public JsonObject ApplyConfiguration(CachedObject? current, ResourceDefinition resource, string now)
    {
        try
        {
            var result = ServerSideApplier.Apply(current?.CloneObject(), (JsonObject)_patch, _schema, Manager, resource.GroupVersion, Force, now);
            if (((JsonObject)_patch)["metadata"]?["resourceVersion"] is null)
            {
                ObjectStore.Metadata(result).Remove("resourceVersion");
            }

            return result;
        }
        catch (ApplyConflictException ex)
        {
            throw StatusException.ApplyConflict(ex.Message, ex.Conflicts.Select(c => (c.Field, $"conflict with \"{c.Manager}\" using {c.ApiVersion}")));
        }
        catch (PatchException ex)
        {
            throw StatusException.UnprocessableEntity(ex.Message);
        }
    }

    /// <summary>The patched object; a patch that does not apply is a 422, a malformed one a 400.</summary>
    public JsonObject Apply(CachedObject current)
    {
        try
        {
            var original = current.CloneObject();
            JsonNode? result = _type switch
            {
                "application/json-patch+json" => JsonPatch.Apply(original, _patch),
                "application/merge-patch+json" => JsonMergePatch.Apply(original, _patch),
                _ => _patch is JsonObject smp ? StrategicMergePatch.Apply(original, smp, _schema) : throw new PatchException("a strategic merge patch must be a JSON object", malformed: true),
            };
            if (result is not JsonObject obj)
            {
                throw new PatchException("the patched object is not a JSON object");
            }

            // The patch applies to the object as it is now: keep its resourceVersion unless the patch set one.
            if (_patch is JsonObject p && p["metadata"]?["resourceVersion"] is null)
            {
                ObjectStore.Metadata(obj).Remove("resourceVersion");
            }

            return obj;
        }
        catch (PatchException ex) when (ex.Malformed)
        {
            throw StatusException.BadRequest(ex.Message);
        }
        catch (PatchException ex)
        {
            throw StatusException.UnprocessableEntity(ex.Message);
        }
    }
}
