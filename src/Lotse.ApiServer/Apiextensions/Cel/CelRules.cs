using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// Where <c>x-kubernetes-validations</c> meet the API: checked when a CustomResourceDefinition is
/// written, run when a custom object is (kube's customresource strategy and apiextensions
/// validation).
/// </summary>
public static class CelRules
{
    /// <summary>
    /// Runs the rules of a custom object on create (<paramref name="old"/> null) or update, after the
    /// schema validation that produced <paramref name="errors"/>. As in kube, an object that already
    /// failed on type, required, enum or size is not evaluated, and a note says so.
    /// </summary>
    public static void Validate(CelValidator? validator, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        if (validator is null)
        {
            return;
        }

        if (errors.Any(IsBlocking))
        {
            errors.Add(new FieldError(FieldErrorType.Invalid, "<nil>", "null", "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"));
            return;
        }

        validator.Validate(obj, old, FieldPath.Root(string.Empty), errors, new CostBudget(CostBudget.RuntimeCostBudget, CostBudget.PerCallLimit));
    }

    /// <summary>
    /// Compiles every rule of a definition's schemas, adding kube's errors. kube validates the
    /// internal form of a definition, in which a schema all versions share is hoisted to
    /// <c>spec.validation</c>; the paths follow that. Schemas that are not structural are left to the
    /// structural check: rules need structural types.
    /// </summary>
    public static void CheckDefinition(IReadOnlyList<JsonObject> versions, List<FieldError> errors)
    {
        var schemas = versions.Select(v => v["schema"]?["openAPIV3Schema"] as JsonObject).ToList();
        if (schemas.Count == 0 || schemas.Any(s => s is null))
        {
            return;
        }

        var shared = schemas.All(s => JsonNode.DeepEquals(s, schemas[0]));
        for (var i = 0; i < (shared ? 1 : schemas.Count); i++)
        {
            var path = shared
                ? FieldPath.Root("spec").Child("validation").Child("openAPIV3Schema")
                : FieldPath.Root("spec").Child("versions").Index(i).Child("schema").Child("openAPIV3Schema");
            var structural = new List<FieldError>();
            StructuralSchema.CheckStructural(schemas[i]!, path, structural);
            if (structural.Count == 0)
            {
                Check(schemas[i]!, path, isResourceRoot: true, uncorrelatable: null, errors);
            }
        }
    }

    private static void Check(JsonObject schema, FieldPath path, bool isResourceRoot, string? uncorrelatable, List<FieldError> errors)
    {
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            var type = RuleType.FromSchema(schema, isResourceRoot);
            for (var i = 0; i < rules.Count; i++)
            {
                var rulePath = path.Child("x-kubernetes-validations").Index(i);
                if (rules[i] is JsonObject rule)
                {
                    CompiledRule.Compile(rule, schema, type, rulePath, uncorrelatable, errors);
                }
            }
        }

        var atomic = schema["x-kubernetes-map-type"]?.GetValue<string>() == "atomic";
        foreach (var (name, node) in schema["properties"] as JsonObject ?? [])
        {
            if (node is JsonObject property)
            {
                var child = path.Child("properties").Key(name);
                Check(property, child, isResourceRoot: false, uncorrelatable ?? (atomic ? path.ToString() : null), errors);
            }
        }

        if (schema["items"] is JsonObject items)
        {
            var correlated = schema["x-kubernetes-list-type"]?.GetValue<string>() == "map";
            Check(items, path.Child("items"), isResourceRoot: false, uncorrelatable ?? (correlated ? null : path.ToString()), errors);
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            Check(additional, path.Child("additionalProperties"), isResourceRoot: false, uncorrelatable ?? (atomic ? path.ToString() : null), errors);
        }
    }

    /// <summary>kube's hasBlockingErr: type, required, enum and size violations (TypeInvalid, Required, NotSupported, TooLong, TooMany).</summary>
    private static bool IsBlocking(FieldError error) => error.Type switch
    {
        FieldErrorType.Required or FieldErrorType.NotSupported or FieldErrorType.TooLong or FieldErrorType.TooMany => true,
        FieldErrorType.Invalid => error.Detail.Contains(" in body must be of type ", StringComparison.Ordinal)
            || error.Detail.Contains(" in body should have at most ", StringComparison.Ordinal)
            || error.Detail.Contains(" in body should be at most ", StringComparison.Ordinal),
        _ => false,
    };
}
