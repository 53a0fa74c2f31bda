using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Patching;
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

    public static async Task<Patcher> ReadAsync(HttpRequest request, ResourceDefinition resource, CancellationToken cancellationToken)
    {
        var type = RequestBody.MediaType(request);
        if (type is "application/apply-patch+yaml" or "application/apply-patch+cbor")
        {
            throw StatusException.UnsupportedMediaType("server-side apply (application/apply-patch+yaml) is not supported by this Lotse release yet; use client-side kubectl apply");
        }

        if (type is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            throw StatusException.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \"{type}\")");
        }

        var bytes = await RequestBody.ReadBytesAsync(request, cancellationToken);
        var patch = RequestBody.Parse(bytes, json: true) ?? throw StatusException.BadRequest("the patch is null");
        if (type == "application/strategic-merge-patch+json" && resource.Group.Length > 0 && !IsBuiltInGroup(resource.Group))
        {
            throw StatusException.UnsupportedMediaType("strategic merge patch is not supported for custom resources; use a JSON merge patch");
        }

        return new Patcher(type, patch, PatchSchema.For(resource.Group, resource.Kind));
    }

    private static bool IsBuiltInGroup(string group) => group is "apps" or "batch" or "autoscaling" or "policy" or "coordination.k8s.io" or "discovery.k8s.io"
        or "events.k8s.io" or "networking.k8s.io" or "rbac.authorization.k8s.io" or "scheduling.k8s.io" or "storage.k8s.io";

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
