using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Lotse.ApiServer.Validation;

/// <summary>
/// The fields each built-in kind has, read from KubernetesClient's typed models (the same types the
/// OpenAPI documents come from). kube decodes a request into its typed struct, so fields the type
/// does not have never reach storage; <see cref="Prune"/> does the same and names what it dropped,
/// as kube's strict decoding does (<c>spec.template.spec.containers[0].imagePullPolicyy</c>).
/// </summary>
public static class KnownFields
{
    private static readonly Lazy<Dictionary<(string Group, string Version, string Kind), Type>> Models = new(FindModels);
    private static readonly ConcurrentDictionary<Type, Dictionary<string, Type>> PropertyCache = new();

    /// <summary>The typed model of a built-in kind, or null (custom resources, kinds the client lacks).</summary>
    public static Type? ModelOf(string group, string version, string kind) =>
        Models.Value.TryGetValue((group, version, kind), out var type) ? type : null;

    /// <summary>Removes every field <paramref name="model"/> does not have from <paramref name="obj"/>; returns their paths.</summary>
    public static List<string> Prune(JsonObject obj, Type model)
    {
        var unknown = new List<string>();
        Walk(obj, model, string.Empty, unknown);
        return unknown;
    }

    private static void Walk(JsonObject obj, Type model, string path, List<string> unknown)
    {
        var properties = Properties(model);
        foreach (var (name, value) in obj.ToList())
        {
            var here = path.Length == 0 ? name : $"{path}.{name}";
            if (!properties.TryGetValue(name, out var type))
            {
                unknown.Add(here);
                obj.Remove(name);
                continue;
            }

            Descend(value, type, here, unknown);
        }
    }

    private static void Descend(JsonNode? value, Type type, string path, List<string> unknown)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (value is JsonObject child && IsModel(type))
        {
            Walk(child, type, path, unknown);
        }
        else if (value is JsonArray items && ElementOf(type, typeof(IList<>), 0) is { } element)
        {
            for (var i = 0; i < items.Count; i++)
            {
                Descend(items[i], element, $"{path}[{i}]", unknown);
            }
        }
        else if (value is JsonObject map && ElementOf(type, typeof(IDictionary<,>), 1) is { } valueType && IsModel(valueType))
        {
            foreach (var (key, entry) in map)
            {
                Descend(entry, valueType, $"{path}[{key}]", unknown);
            }
        }
    }

    /// <summary>A typed model whose fields are known (not IntOrString, Quantity or free-form JSON).</summary>
    internal static bool IsModel(Type type) =>
        type.IsClass && type.Namespace == "k8s.Models" && type != typeof(IntOrString) && type != typeof(ResourceQuantity)
        && !type.IsAssignableTo(typeof(System.Collections.IEnumerable));

    /// <summary>The element type of a list (<c>IList&lt;T&gt;</c>, argument 0) or the value type of a map (<c>IDictionary&lt;K,V&gt;</c>, argument 1).</summary>
    internal static Type? ElementOf(Type type, Type generic, int argument)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == generic)
        {
            return type.GetGenericArguments()[argument];
        }

        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic)?.GetGenericArguments()[argument];
    }

    /// <summary>A model's fields by JSON name, with their types (cached per type).</summary>
    internal static Dictionary<string, Type> Properties(Type model) => PropertyCache.GetOrAdd(model, static t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Name: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, p.PropertyType))
            .Where(p => p.Name is not null)
            .GroupBy(p => p.Name!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().PropertyType, StringComparer.Ordinal));

    private static Dictionary<(string, string, string), Type> FindModels() =>
        typeof(V1Pod).Assembly.GetTypes()
            .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
            .Where(t => t.Entity is not null && t.Type.Namespace == "k8s.Models")
            .GroupBy(t => (t.Entity!.Group ?? string.Empty, t.Entity.ApiVersion, t.Entity.Kind))
            .ToDictionary(g => g.Key, g => g.First().Type);
}
