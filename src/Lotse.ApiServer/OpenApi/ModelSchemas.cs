using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using Lotse.ApiServer.Patching;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;

namespace Lotse.ApiServer.OpenApi;

/// <summary>
/// The schemas of built-in kinds for the OpenAPI documents, generated from KubernetesClient's typed
/// models (the same types field validation reads): every property with its type, nested types as
/// shared component schemas, lists and maps, int-or-string and quantities as kube writes them, and the
/// strategic-merge-patch extensions (<c>x-kubernetes-patch-strategy</c>, <c>-merge-key</c>) from our
/// own patch table — what <c>kubectl explain</c> walks and what kubectl builds its apply patches from.
/// </summary>
internal sealed partial class ModelSchemas(bool v3)
{
    private readonly Dictionary<Type, PatchSchema> _patches = [];
    private readonly Dictionary<Type, string> _names = [];

    private string Ref(string name) => v3 ? $"#/components/schemas/{name}" : $"#/definitions/{name}";

    /// <summary>Adds the kind's schema (under <paramref name="name"/>) and every schema it refers to.</summary>
    public void AddKind(JsonObject schemas, ResourceDefinition resource, string name, JsonObject extensions)
    {
        if (resource.Schema is { } custom)
        {
            // A custom kind: its definition's schema, with the fields every object has.
            var schema = (JsonObject)custom.DeepClone();
            var properties = schema["properties"] as JsonObject ?? [];
            properties["apiVersion"] ??= new JsonObject { ["description"] = ModelDescriptions.Of(typeof(V1Pod), "apiVersion"), ["type"] = "string" };
            properties["kind"] ??= new JsonObject { ["description"] = ModelDescriptions.Of(typeof(V1Pod), "kind"), ["type"] = "string" };
            properties["metadata"] = new JsonObject { ["description"] = ModelDescriptions.Of(typeof(V1Pod), "metadata"), ["type"] = "object" };
            schema["properties"] = properties;
            Merge(schema, extensions);
            schemas[name] = schema;
            return;
        }

        if (KnownFields.ModelOf(resource.Group, resource.Version, resource.Kind) is not { } model)
        {
            var stub = new JsonObject { ["description"] = $"{resource.Kind} ({resource.GroupVersion}).", ["type"] = "object" };
            Merge(stub, extensions);
            schemas[name] = stub;
            return;
        }

        _names[model] = name;
        Collect(model, PatchSchema.For(resource.Group, resource.Kind), []);
        var pending = new Queue<Type>([model]);
        while (pending.TryDequeue(out var type))
        {
            var typeName = NameOf(type);
            if (schemas.ContainsKey(typeName) && type != model)
            {
                continue;
            }

            var schema = ObjectSchema(type, pending);
            if (type == model)
            {
                Merge(schema, extensions);
            }

            schemas[typeName] = schema;
        }
    }

    /// <summary>Remembers the patch metadata each model type is reached with (kube tags fields of Go structs, so a type's tags are the same wherever it appears).</summary>
    private void Collect(Type type, PatchSchema patch, HashSet<Type> seen)
    {
        if (!seen.Add(type))
        {
            return;
        }

        if (!patch.IsEmpty || !_patches.ContainsKey(type))
        {
            _patches[type] = patch;
        }

        foreach (var (json, propertyType) in KnownFields.Properties(type))
        {
            if (ModelBehind(propertyType) is { } inner)
            {
                Collect(inner, patch.Field(json).Schema, seen);
            }
        }

        seen.Remove(type);
    }

    private JsonObject ObjectSchema(Type type, Queue<Type> pending)
    {
        var patch = _patches.GetValueOrDefault(type, PatchSchema.Empty);
        var properties = new JsonObject();
        foreach (var (json, propertyType) in KnownFields.Properties(type))
        {
            var property = Described(PropertySchema(propertyType, pending), ModelDescriptions.Of(type, json));
            var field = patch.Field(json);
            if (field.Strategy != PatchStrategy.None)
            {
                property["x-kubernetes-patch-strategy"] = StrategyText(field.Strategy);
            }

            if (field.MergeKey is { } key)
            {
                property["x-kubernetes-patch-merge-key"] = key;
            }

            properties[json] = property;
        }

        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (ModelDescriptions.Of(type) is { } description)
        {
            schema.Insert(0, "description", description);
        }

        return schema;
    }

    /// <summary>
    /// A field's schema with its description. In v3 a reference cannot carry siblings, so kube wraps it,
    /// <c>{"description": …, "allOf": [{"$ref": …}]}</c> — and <c>kubectl explain</c> then prints the
    /// field's description before the referenced type's. Swagger 2.0 keeps the description beside the $ref.
    /// </summary>
    private JsonObject Described(JsonObject schema, string? description)
    {
        if (description is null)
        {
            return schema;
        }

        if (v3 && schema["$ref"] is { } reference)
        {
            schema.Remove("$ref");
            return new JsonObject { ["description"] = description, ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = reference }) };
        }

        schema.Insert(0, "description", description);
        return schema;
    }

    private JsonObject PropertySchema(Type type, Queue<Type> pending)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return new JsonObject { ["type"] = "string" };
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = type == typeof(int) ? "int32" : "int64" };
        }

        if (type == typeof(double) || type == typeof(float))
        {
            return new JsonObject { ["type"] = "number", ["format"] = "double" };
        }

        if (type == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }

        if (type == typeof(byte[]))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "byte" };
        }

        if (type == typeof(IntOrString))
        {
            return v3
                ? new JsonObject { ["x-kubernetes-int-or-string"] = true, ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "integer" }, new JsonObject { ["type"] = "string" }) }
                : new JsonObject { ["type"] = "string", ["format"] = "int-or-string" };
        }

        if (type == typeof(ResourceQuantity))
        {
            return new JsonObject { ["type"] = "string" };
        }

        if (KnownFields.ElementOf(type, typeof(IDictionary<,>), 1) is { } value)
        {
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = PropertySchema(value, pending) };
        }

        if (KnownFields.ElementOf(type, typeof(IList<>), 0) is { } item)
        {
            return new JsonObject { ["type"] = "array", ["items"] = PropertySchema(item, pending) };
        }

        if (KnownFields.IsModel(type))
        {
            pending.Enqueue(type);
            return new JsonObject { ["$ref"] = Ref(NameOf(type)) };
        }

        return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
    }

    private string NameOf(Type type)
    {
        if (!_names.TryGetValue(type, out var name))
        {
            // V1PodSpec → io.k8s.api.PodSpec: kubectl explain shows the last segment as the field's type.
            var bare = VersionPrefix().Replace(type.Name, string.Empty);
            name = $"io.k8s.api.{(bare.Length == 0 ? type.Name : bare)}";
            if (_names.ContainsValue(name))
            {
                name = $"io.k8s.api.{type.Name}";
            }

            _names[type] = name;
        }

        return name;
    }

    private static Type? ModelBehind(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (KnownFields.ElementOf(type, typeof(IDictionary<,>), 1) is { } value)
        {
            return ModelBehind(value);
        }

        if (KnownFields.ElementOf(type, typeof(IList<>), 0) is { } item)
        {
            return ModelBehind(item);
        }

        return KnownFields.IsModel(type) ? type : null;
    }

    private static string StrategyText(PatchStrategy strategy) =>
        string.Join(",", new[] { (PatchStrategy.Merge, "merge"), (PatchStrategy.RetainKeys, "retainKeys"), (PatchStrategy.Replace, "replace") }
            .Where(s => strategy.HasFlag(s.Item1)).Select(s => s.Item2));

    private static void Merge(JsonObject target, JsonObject extensions)
    {
        foreach (var (key, value) in extensions)
        {
            target[key] = value?.DeepClone();
        }
    }

    [GeneratedRegex("^V[0-9]+((alpha|beta)[0-9]+)?")]
    private static partial Regex VersionPrefix();
}
