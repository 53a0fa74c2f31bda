using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions;
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
        // kube serves strategic merge patch for the kinds compiled into it, never for custom resources.
        var custom = !BuiltInPatchSchemas.IsBuiltInGroup(resource.Group);
        var accepted = custom
            ? "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            : "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
        var type = RequestBody.MediaType(request);
        if (type is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json" or PatchTypes.ApplyPatchYaml)
            || (custom && type == "application/strategic-merge-patch+json"))
        {
            throw StatusException.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: {accepted}");
        }

        var apply = type == PatchTypes.ApplyPatchYaml;
        var force = request.Query["force"].ToString();
        var errors = new List<FieldError>();
        if (!apply && request.Query.ContainsKey("force"))
        {
            errors.Add(FieldError.Forbidden(FieldPath.Root("force"), "may not be specified for non-apply patch"));
        }
        else if (apply && request.Query["fieldManager"].ToString().Length == 0)
        {
            errors.Add(FieldError.Required(FieldPath.Root("fieldManager"), "is required for apply patch"));
        }

        var manager = FieldManager(request, "PatchOptions", errors);
        var bytes = await RequestBody.ReadBytesAsync(request, cancellationToken);
        var patch = RequestBody.Parse(bytes, json: !apply) ?? throw StatusException.BadRequest("the patch is null");
        if (apply)
        {
            CheckApplied(patch, resource);
        }

        return new Patcher(type, patch, CustomResourcePatchSchema.For(resource)) { Manager = manager, Force = force == "true" };
    }

    /// <summary>
    /// The writer's name (kube's managerOrUserAgent): the <c>fieldManager</c> parameter — at most 128 bytes,
    /// all printable, else a 422 on the request's options kind — or the User-Agent up to its first <c>/</c>,
    /// without unprintable characters and cut at 128 bytes.
    /// </summary>
    public static string FieldManager(HttpRequest request, string optionsKind, List<FieldError>? errors = null)
    {
        errors ??= [];
        var manager = request.Query["fieldManager"].ToString();
        if (System.Text.Encoding.UTF8.GetByteCount(manager) > MaxFieldManagerLength)
        {
            errors.Add(FieldError.TooLong(FieldPath.Root("fieldManager"), MaxFieldManagerLength));
        }

        var offset = 0; // Go ranges over a string by byte offset
        foreach (var rune in manager.EnumerateRunes())
        {
            if (!IsPrintable(rune))
            {
                errors.Add(FieldError.Invalid(FieldPath.Root("fieldManager").Index(offset), manager, "all characters must be printable"));
            }

            offset += rune.Utf8SequenceLength;
        }

        if (errors.Count > 0)
        {
            throw StatusException.Invalid("meta.k8s.io", optionsKind, string.Empty, errors);
        }

        if (manager.Length > 0)
        {
            return manager;
        }

        var agent = request.Headers.UserAgent.ToString();
        var program = agent.Split('/')[0];
        var name = new System.Text.StringBuilder();
        var bytes = 0;
        foreach (var rune in program.EnumerateRunes().Where(IsPrintable))
        {
            if (bytes + rune.Utf8SequenceLength > MaxFieldManagerLength)
            {
                break;
            }

            name.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }

        return name.ToString();
    }

    /// <summary>kube's FieldManagerMaxLength.</summary>
    public const int MaxFieldManagerLength = 128;

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrintable(System.Text.Rune rune) => rune.Value == ' ' || System.Text.Rune.GetUnicodeCategory(rune) switch
    {
        System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.Surrogate
            or System.Globalization.UnicodeCategory.PrivateUse or System.Globalization.UnicodeCategory.OtherNotAssigned
            or System.Globalization.UnicodeCategory.SpaceSeparator or System.Globalization.UnicodeCategory.LineSeparator
            or System.Globalization.UnicodeCategory.ParagraphSeparator => false,
        _ => true,
    };

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

    /// <summary>
    /// A server-side apply of the configuration onto the object as it is now (or onto nothing: the
    /// apply creates it); conflicts with other managers are a 409 with kube's causes.
    /// </summary>
    public JsonObject ApplyConfiguration(CachedObject? current, ResourceDefinition resource, string? subresource, string now)
    {
        try
        {
            var result = ServerSideApplier.Apply(current?.CloneObject(), (JsonObject)_patch, _schema, Manager, resource.GroupVersion, Force, now, ServerSideApplier.ScopeOf(resource, subresource), subresource);
            if (((JsonObject)_patch)["metadata"]?["resourceVersion"] is null)
            {
                ObjectStore.Metadata(result).Remove("resourceVersion");
            }

            return result;
        }
        catch (ApplyConflictException ex)
        {
            throw StatusException.ApplyConflict(ex.Message, ex.Conflicts.Select(c => (c.Field, $"conflict with {c.Who}")));
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
