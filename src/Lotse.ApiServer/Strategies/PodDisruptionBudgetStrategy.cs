using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Strategies;

/// <summary>
/// PodDisruptionBudget (policy/v1): generation tracking (evictions wait until the disruption controller
/// has observed the current generation), an empty status on create, and kube's spec rules.
/// </summary>
internal sealed partial class PodDisruptionBudgetStrategy : ResourceStrategy
{
    public override bool TracksGeneration => true;

    public override void PrepareForCreate(JsonObject obj) => obj["status"] = new JsonObject
    {
        ["disruptionsAllowed"] = 0,
        ["currentHealthy"] = 0,
        ["desiredHealthy"] = 0,
        ["expectedPods"] = 0,
    };

    public override void Validate(JsonObject obj, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        var path = FieldPath.Root("spec");
        if (spec?["minAvailable"] is not null && spec["maxUnavailable"] is not null)
        {
            errors.Add(FieldError.Invalid(path, spec, "minAvailable and maxUnavailable cannot be both set"));
        }

        foreach (var field in (string[])["minAvailable", "maxUnavailable"])
        {
            ValidateIntOrPercent(spec?[field], path.Child(field), errors);
        }

        if (JsonEdit.Str(spec, "unhealthyPodEvictionPolicy") is { } policy && policy is not ("IfHealthyBudget" or "AlwaysAllow"))
        {
            errors.Add(FieldError.NotSupported(path.Child("unhealthyPodEvictionPolicy"), policy, ["AlwaysAllow", "IfHealthyBudget"]));
        }
    }

    /// <summary>kube's ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent.</summary>
    private static void ValidateIntOrPercent(JsonNode? value, FieldPath path, List<FieldError> errors)
    {
        switch (value)
        {
            case null:
                return;
            case JsonValue v when v.TryGetValue<string>(out var text):
                if (!Percent().IsMatch(text))
                {
                    errors.Add(FieldError.Invalid(path, text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
                }
                else if (long.TryParse(text.AsSpan(0, text.Length - 1), out var percent) && percent > 100)
                {
                    errors.Add(FieldError.Invalid(path, text, "must not be greater than 100%"));
                }

                return;
            default:
                if (value.AsInt64() is not { } number)
                {
                    errors.Add(FieldError.Invalid(path, value, "must be an integer or percentage (e.g '5%')"));
                }
                else if (number < 0)
                {
                    errors.Add(FieldError.Invalid(path, value, "must be greater than or equal to 0"));
                }

                return;
        }
    }

    [GeneratedRegex("^[0-9]+%$")]
    private static partial Regex Percent();
}
