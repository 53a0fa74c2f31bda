using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Patching;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// The merge semantics of a custom resource, read from the structural schema of the version served
/// (what kube-apiserver's type converter builds for structured-merge-diff from a CRD): arrays are atomic
/// unless <c>x-kubernetes-list-type</c> says <c>set</c> (items by value) or <c>map</c> (items by the
/// <c>x-kubernetes-list-map-keys</c> tuple); objects are granular unless <c>x-kubernetes-map-type: atomic</c>;
/// <c>additionalProperties</c> and preserved unknown fields are maps whose keys are data; <c>metadata</c>
/// is ObjectMeta as for every kind.
/// </summary>
public static class CustomResourcePatchSchema
{
    private static readonly ConditionalWeakTable<JsonObject, PatchSchema> Cache = [];

    /// <summary>The schema a write through <paramref name="resource"/> merges and tracks fields by.</summary>
    public static PatchSchema For(ResourceDefinition resource) =>
        resource.Schema is { } schema ? Cache.GetValue(schema, Build) : PatchSchema.For(resource.Group, resource.Kind);

    /// <summary>Builds the patch metadata of a custom resource from its OpenAPI v3 schema.</summary>
    public static PatchSchema Build(JsonObject schema)
    {
        var fields = Properties(schema).Where(p => p.Key != "metadata").ToList();
        fields.Add(KeyValuePair.Create("metadata", new PatchField(PatchStrategy.None, null, BuiltInPatchSchemas.ObjectMeta)));
        return new PatchSchema(fields, Elements(schema));
    }

    private static IEnumerable<KeyValuePair<string, PatchField>> Properties(JsonObject schema) =>
        (schema["properties"] as JsonObject ?? []).Where(p => p.Value is JsonObject).Select(p => KeyValuePair.Create(p.Key, FieldOf((JsonObject)p.Value!)));

    private static PatchSchema Object(JsonObject schema) => new(Properties(schema), Elements(schema));

    private static PatchField? Elements(JsonObject schema) => schema["additionalProperties"] switch
    {
        JsonObject values => FieldOf(values),
        JsonValue allowed when allowed.TryGetValue<bool>(out var any) && any => PatchField.Untagged,
        _ => Flag(schema, "x-kubernetes-preserve-unknown-fields") ? PatchField.Untagged : null,
    };

    private static PatchField FieldOf(JsonObject schema)
    {
        var type = Str(schema, "type");
        if (type == "array")
        {
            var items = schema["items"] as JsonObject;
            switch (Str(schema, "x-kubernetes-list-type"))
            {
                case "map":
                    var keys = (schema["x-kubernetes-list-map-keys"] as JsonArray ?? []).OfType<JsonValue>().Select(k => k.TryGetValue<string>(out var name) ? name : null).OfType<string>().ToList();
                    var defaults = keys.Where(k => items?["properties"]?[k]?["default"] is not null)
                        .ToDictionary(k => k, k => (JsonNode?)items!["properties"]![k]!["default"]!.DeepClone(), StringComparer.Ordinal);
                    return new PatchField(PatchStrategy.Merge, keys.FirstOrDefault(), items is null ? PatchSchema.Empty : Object(items))
                    {
                        ListMapKeys = keys,
                        KeyDefaults = defaults.Count > 0 ? defaults : null,
                    };
                case "set":
                    return new PatchField(PatchStrategy.Merge, null, PatchSchema.Empty);
                default:
                    return new PatchField(PatchStrategy.None, null, PatchSchema.Empty);
            }
        }

        if (type == "object" || schema.ContainsKey("properties") || schema.ContainsKey("additionalProperties") || Flag(schema, "x-kubernetes-preserve-unknown-fields"))
        {
            return Str(schema, "x-kubernetes-map-type") == "atomic"
                ? new PatchField(PatchStrategy.Replace, null, PatchSchema.Empty)
                : new PatchField(PatchStrategy.None, null, Object(schema));
        }

        return PatchField.Untagged;
    }

    private static string? Str(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
