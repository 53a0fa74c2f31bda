using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using global::Cel;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>Evaluating one node's rules, with kube's error wording (schema/cel/validation.go).</summary>
public sealed partial class CelValidator
{
    /// <summary>kube's MaxEvaluatedMessageExpressionSizeBytes.</summary>
    private const int MaxMessageExpressionBytes = 5 * 1024;

    private void ValidateRules(JsonNode value, JsonNode? old, FieldPath at, List<FieldError> errors, CostBudget budget)
    {
        if (_rules.Count == 0)
        {
            return;
        }

        // kube's path of the root is nil, which its errors print as "<nil>".
        var path = at.ToString().Length == 0 ? FieldPath.Parse("<nil>") : at;

        var shown = _type.SchemaType;
        if (budget.Remaining <= 0)
        {
            errors.Add(FieldError.Invalid(path, shown, "validation failed due to running out of cost budget, no further validation rules will be run"));
            budget.Stopped = true;
            return;
        }

        var self = CelValues.FromJson(value, _type, _isResourceRoot);
        object? oldSelf = null;
        var oldConverted = false;
        foreach (var rule in _rules)
        {
            if (rule.Error is not null || rule.Program is null)
            {
                errors.Add(FieldError.Invalid(path, shown, $"rule compile error: {rule.Error}"));
                continue;
            }

            if (rule.UsesOldSelf && old is null && !rule.OptionalOldSelf)
            {
                // Transition rules run only where there is an old value to compare with.
                continue;
            }

            if (rule.UsesOldSelf && !oldConverted)
            {
                oldSelf = CelValues.FromJson(old, _type, _isResourceRoot);
                oldConverted = true;
            }

            var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["self"] = self,
                ["oldSelf"] = rule.OptionalOldSelf ? (old is null ? CelOptional.None : new CelOptional(true, oldSelf)) : oldSelf,
            };
            var (result, failure) = Evaluate(rule.Program, variables, budget);
            if (budget.CallLimitExceeded)
            {
                errors.Add(FieldError.Invalid(path, shown, $"'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {rule.ErrorString}"));
                budget.Stopped = true;
                return;
            }

            if (budget.TotalExceeded)
            {
                errors.Add(FieldError.Invalid(path, shown, "validation failed due to running out of cost budget, no further validation rules will be run"));
                budget.Stopped = true;
                return;
            }

            if (failure is not null)
            {
                errors.Add(FieldError.Invalid(path, shown, failure.StartsWith("no such overload", StringComparison.Ordinal)
                    ? $"'{failure}': call arguments did not match a supported operator, function or macro signature for rule: {rule.ErrorString}"
                    : $"{failure} evaluating rule: {rule.ErrorString}"));
                continue;
            }

            if (result is true)
            {
                continue;
            }

            var target = rule.NormalizedFieldPath.Length > 0 ? at.Child(rule.NormalizedFieldPath) : path;
            var detail = rule.DefaultMessage;
            if (rule.MessageProgram is not null)
            {
                variables["oldSelf"] = oldSelf;
                var (message, _) = Evaluate(rule.MessageProgram, variables, budget);
                if (budget.CallLimitExceeded || budget.TotalExceeded)
                {
                    errors.Add(FieldError.Invalid(target, shown, budget.CallLimitExceeded
                        ? $"no further validation rules will be run due to call cost exceeds limit for messageExpression: {FieldError.Quote(rule.MessageExpression)}"
                        : "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run"));
                    budget.Stopped = true;
                    return;
                }

                if (message is string text && text.Trim() is { Length: > 0 and <= MaxMessageExpressionBytes } trimmed && !trimmed.Contains('\n', StringComparison.Ordinal))
                {
                    detail = trimmed;
                }
            }

            errors.Add(rule.Reason switch
            {
                "FieldValueForbidden" => FieldError.Forbidden(target, detail),
                "FieldValueRequired" => FieldError.Required(target, detail),
                "FieldValueDuplicate" => FieldError.Duplicate(target, shown),
                _ => FieldError.Invalid(target, shown, detail),
            });
        }
    }

    /// <summary>Runs a program; a runtime error comes back as cel-go words it, never as an exception.</summary>
    private static (object? Result, string? Failure) Evaluate(CelProgramDelegate program, Dictionary<string, object?> variables, CostBudget budget)
    {
        using var scope = budget.Enter();
        try
        {
            var result = program(variables);
            return result switch
            {
                bool or string => (result, null),
                _ when result?.GetType().Name == "CelNoSuchField" => (null, NoSuchKey(result.GetType().GetProperty("Message")?.GetValue(result) as string)),
                _ => (result, "no such overload"),
            };
        }
        catch (CostExceededException)
        {
            return (null, "operation cancelled: actual cost limit exceeded");
        }
        catch (Exception e)
        {
            return (null, Describe(e));
        }
    }

    private static string Describe(Exception e) => e switch
    {
        CelNoSuchFieldException => NoSuchKey(e.Message),
        CelTypeDoesNotSupportFieldSelectionException when SelectedFrom().Match(e.Message) is { Success: true } m => $"no such key: {m.Groups[1].Value}",
        CelArgumentRangeException when e.Message.StartsWith("Key out of range", StringComparison.Ordinal) => "no such key",
        CelArgumentRangeException when e.Message.StartsWith("Index out of range", StringComparison.Ordinal) => "index out of bounds",
        CelDivideByZeroException => "division by zero",
        CelModulusByZeroException => "modulus by zero",
        CelOverflowException or OverflowException => "integer overflow",
        CelNoSuchOverloadException => "no such overload",
        CostExceededException => e.Message,
        _ when e.InnerException is { } inner && e is CelException => Describe(inner),
        _ => e.Message,
    };

    private static string NoSuchKey(string? message) =>
        message is not null && SelectField().Match(message) is { Success: true } m ? $"no such key: {m.Groups[1].Value}" : "no such key";

    [GeneratedRegex("select field '([^']*)'")]
    private static partial Regex SelectField();

    [GeneratedRegex(@"Type '(?:[^']*\.)?([^'.]*)' does not support field selection")]
    private static partial Regex SelectedFrom();
}
