using System.Text.Json.Nodes;
using global::Cel;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// The compiled <c>x-kubernetes-validations</c> of one schema, shaped like the schema (kube's
/// schema/cel Validator): each node's rules, and validators for the properties, items and
/// additionalProperties below it that have rules. Built once per served CRD version and shared by
/// every request; evaluation state lives in the <see cref="CostBudget"/> of each call.
/// </summary>
public sealed partial class CelValidator
{
    private readonly RuleType _type;
    private readonly bool _isResourceRoot;
    private readonly List<CompiledRule> _rules;
    private readonly Dictionary<string, CelValidator> _properties;
    private readonly CelValidator? _items;
    private readonly CelValidator? _additional;
    private readonly bool _atomicMap;
    private readonly string[]? _listMapKeys;

    private CelValidator(JsonObject schema, bool isResourceRoot, List<CompiledRule> rules, Dictionary<string, CelValidator> properties, CelValidator? items, CelValidator? additional)
    {
        _type = RuleType.FromSchema(schema, isResourceRoot);
        _isResourceRoot = isResourceRoot;
        _rules = rules;
        _properties = properties;
        _items = items;
        _additional = additional;
        _atomicMap = schema["x-kubernetes-map-type"]?.GetValue<string>() == "atomic";
        if (schema["x-kubernetes-list-type"]?.GetValue<string>() == "map")
        {
            _listMapKeys = [.. (schema["x-kubernetes-list-map-keys"] as JsonArray ?? []).Select(k => k?.GetValue<string>()).OfType<string>()];
        }
    }

    /// <summary>The validator for a CRD version's schema, or null when it has no rules.</summary>
    public static CelValidator? For(JsonObject? schema) => schema is null ? null : Build(schema, isResourceRoot: true);

    private static CelValidator? Build(JsonObject schema, bool isResourceRoot)
    {
        var rules = new List<CompiledRule>();
        if (schema["x-kubernetes-validations"] is JsonArray list)
        {
            var type = RuleType.FromSchema(schema, isResourceRoot);
            foreach (var rule in list.OfType<JsonObject>())
            {
                rules.Add(CompiledRule.Compile(rule, schema, type, FieldPath.Root(string.Empty), null, null));
            }
        }

        var properties = new Dictionary<string, CelValidator>(StringComparer.Ordinal);
        foreach (var (name, node) in schema["properties"] as JsonObject ?? [])
        {
            if (node is JsonObject property && Build(property, isResourceRoot: false) is { } child)
            {
                properties[name] = child;
            }
        }

        var items = schema["items"] is JsonObject itemSchema ? Build(itemSchema, isResourceRoot: false) : null;
        var additional = schema["additionalProperties"] is JsonObject additionalSchema ? Build(additionalSchema, isResourceRoot: false) : null;
        return rules.Count > 0 || properties.Count > 0 || items is not null || additional is not null
            ? new CelValidator(schema, isResourceRoot, rules, properties, items, additional)
            : null;
    }

    /// <summary>
    /// Runs every rule on <paramref name="value"/> (and <paramref name="old"/> for transition rules),
    /// adding kube-worded errors. Stops when the budget runs out, as kube does.
    /// </summary>
    public void Validate(JsonNode? value, JsonNode? old, FieldPath path, List<FieldError> errors, CostBudget budget)
    {
        if (value is null || budget.Stopped)
        {
            return;
        }

        ValidateRules(value, old, path, errors, budget);
        if (budget.Stopped)
        {
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                var oldObj = _atomicMap ? null : old as JsonObject;
                foreach (var (name, item) in obj)
                {
                    if (_properties.TryGetValue(name, out var property))
                    {
                        property.Validate(item, oldObj?[name], path.Child(name), errors, budget);
                    }
                    else if (_additional is not null && (!_isResourceRoot || name is not ("apiVersion" or "kind" or "metadata")))
                    {
                        _additional.Validate(item, oldObj?[name], path.Key(name), errors, budget);
                    }

                    if (budget.Stopped)
                    {
                        return;
                    }
                }

                break;
            case JsonArray array when _items is not null:
                for (var i = 0; i < array.Count && !budget.Stopped; i++)
                {
                    _items.Validate(array[i], OldItem(array[i], old as JsonArray), path.Index(i), errors, budget);
                }

                break;
        }
    }

    /// <summary>The old item a new list item is compared with: only map-type lists correlate, by their keys.</summary>
    private JsonNode? OldItem(JsonNode? item, JsonArray? old)
    {
        if (_listMapKeys is not { Length: > 0 } keys || old is null || item is not JsonObject current)
        {
            return null;
        }

        return old.OfType<JsonObject>().FirstOrDefault(o => keys.All(k => JsonNode.DeepEquals(o[k], current[k])));
    }
}
