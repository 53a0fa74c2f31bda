using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

/// <summary>
/// Server-side field validation (<c>fieldValidation=Strict|Warn|Ignore</c>, Warn by default): fields a
/// built-in kind does not have, or a custom kind's structural schema does not declare (unless it
/// preserves unknown fields), are dropped from what is written, as kube's decoding and pruning drop
/// them, and reported — Strict refuses the request with kube's strict decoding error, Warn answers with one
/// <c>Warning</c> header per field (kubectl prints them), Ignore says nothing.
/// </summary>
internal static class FieldValidation
{
    public const string Strict = "Strict";
    public const string Warn = "Warn";
    public const string Ignore = "Ignore";

    public static string ModeOf(HttpRequest request)
    {
        var value = request.Query["fieldValidation"].ToString();
        return value switch
        {
            "" => Warn,
            Strict or Warn or Ignore => value,
            _ => throw StatusException.BadRequest($"fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \"{value}\""),
        };
    }

    /// <summary>
    /// Prunes <paramref name="obj"/> to the kind's fields and reports what went. For a patch,
    /// <paramref name="stored"/> is the object before it: unknown fields it already carried (written
    /// before validation existed) are dropped but not reported — looked for only when there are any.
    /// </summary>
    public static void Apply(HttpContext context, ResourceDefinition resource, JsonObject obj, string mode, JsonObject? stored = null)
    {
        if (NamesAnotherType(resource, obj))
        {
            // Not this kind's fields to judge: the store refuses the body for its type meta
            // ("the kind in the data (…) does not match …"), as kube decodes a body as the kind it names.
            return;
        }

        var model = KnownFields.ModelOf(resource.Group, resource.Version, resource.Kind);
        List<string>? Prune(JsonObject target) =>
            model is not null ? KnownFields.Prune(target, model) : resource.Schema is { } schema ? Apiextensions.StructuralSchema.Prune(schema, target) : null;

        if (Prune(obj) is not { } unknown)
        {
            return;
        }

        if (unknown.Count > 0 && stored is not null)
        {
            var old = Prune((JsonObject)stored.DeepClone())!;
            unknown.RemoveAll(old.Contains);
        }

        if (unknown.Count == 0 || mode == Ignore)
        {
            return;
        }

        if (mode == Strict)
        {
            throw StatusException.BadRequest(
                $"{resource.Kind} in version \"{resource.Version}\" cannot be handled as a {resource.Kind}: strict decoding error: {string.Join(", ", unknown.Select(f => $"unknown field \"{f}\""))}");
        }

        var headers = context.Response.Headers;
        foreach (var field in unknown)
        {
            var warning = $"299 - \"unknown field \\\"{field}\\\"\"";
            if (!headers["Warning"].Contains(warning))
            {
                headers.Append("Warning", warning);
            }
        }
    }

    private static bool NamesAnotherType(ResourceDefinition resource, JsonObject obj) =>
        (obj["kind"] is JsonValue kind && kind.TryGetValue<string>(out var k) && k.Length > 0 && k != resource.Kind)
        || (obj["apiVersion"] is JsonValue version && version.TryGetValue<string>(out var v) && v.Length > 0 && v != resource.GroupVersion);
}
