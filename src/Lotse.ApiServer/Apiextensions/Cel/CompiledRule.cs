using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using global::Cel;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// One <c>x-kubernetes-validations</c> entry (apiextensions.k8s.io/v1 ValidationRule) compiled against
/// the type of its schema node: the rule's program, the messageExpression's, whether it reads
/// <c>oldSelf</c>, and its estimated cost. <see cref="Compile"/> reports what kube's CRD validation
/// reports for a bad rule, on the rule's path.
/// </summary>
public sealed class CompiledRule
{
    /// <summary>kube's StaticEstimatedCostLimit: the most one rule may be estimated to cost.</summary>
    public const double StaticEstimatedCostLimit = 10_000_000;

    public static readonly string[] Reasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];

    private CompiledRule(JsonObject rule)
    {
        Rule = Text(rule, "rule") ?? string.Empty;
        Message = Text(rule, "message") ?? string.Empty;
        MessageExpression = Text(rule, "messageExpression") ?? string.Empty;
        Reason = Text(rule, "reason");
        FieldPath = Text(rule, "fieldPath") ?? string.Empty;
        OptionalOldSelf = rule["optionalOldSelf"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    }

    public string Rule { get; }

    public string Message { get; }

    public string MessageExpression { get; }

    public string? Reason { get; }

    public string FieldPath { get; }

    public bool OptionalOldSelf { get; }

    public CelProgramDelegate? Program { get; private set; }

    public CelProgramDelegate? MessageProgram { get; private set; }

    public bool UsesOldSelf { get; private set; }

    public double EstimatedCost { get; private set; }

    /// <summary>The fieldPath as a field path below the rule's node ("spec.x", "[key]"), or empty.</summary>
    public string NormalizedFieldPath { get; private set; } = string.Empty;

    /// <summary>Why the rule cannot run, when it cannot (reported per object, as kube's "rule compile error").</summary>
    public string? Error { get; private set; }

    /// <summary>What a failure says when the rule has no (working) messageExpression: kube's ruleMessageOrDefault.</summary>
    public string DefaultMessage => Message.Trim().Length > 0 ? Message.Trim() : $"failed rule: {Rule.Trim()}";

    /// <summary>The rule as kube's errors name it (ruleErrorString): its message, or else its expression.</summary>
    public string ErrorString => Message.Trim().Length > 0 ? Message.Trim() : Rule.Trim();

    /// <summary>
    /// Compiles one rule for a node of type <paramref name="type"/>; with <paramref name="errors"/>,
    /// adds kube's CRD validation errors under <paramref name="path"/> (the rule's
    /// <c>x-kubernetes-validations[i]</c>). <paramref name="uncorrelatable"/> names the list around the
    /// node whose items have no old value to compare with, if any.
    /// </summary>
    public static CompiledRule Compile(JsonObject rule, JsonObject schema, RuleType type, FieldPath path, string? uncorrelatable, List<FieldError>? errors)
    {
        var compiled = new CompiledRule(rule);
        compiled.CompileInto(rule, schema, type, path, uncorrelatable, errors ?? []);
        return compiled;
    }

    private void CompileInto(JsonObject rule, JsonObject schema, RuleType type, FieldPath path, string? uncorrelatable, List<FieldError> errors)
    {
        var value = GoValue(rule);
        if (Rule.Trim().Length == 0)
        {
            errors.Add(FieldError.Required(path.Child("rule"), "rule is not specified"));
            Error = "rule is not specified";
            return;
        }

        if (Message.Length > 0 && Message.Trim().Length == 0)
        {
            errors.Add(FieldError.Required(path.Child("message"), "message must be non-empty if specified"));
        }
        else if (Message.Contains('\n', StringComparison.Ordinal))
        {
            errors.Add(FieldError.Invalid(path.Child("message"), Message, "message must not contain line breaks"));
        }

        if (Reason is not null && !Reasons.Contains(Reason))
        {
            errors.Add(FieldError.NotSupported(path.Child("reason"), Reason, Reasons));
        }

        if (FieldPath.Length > 0)
        {
            if (RuleFieldPath.Normalize(FieldPath, schema) is { } normalized)
            {
                NormalizedFieldPath = normalized;
            }
            else
            {
                errors.Add(FieldError.Invalid(path.Child("fieldPath"), FieldPath, "fieldPath must be a valid path: does not refer to a valid field"));
            }
        }

        var oldSelf = OptionalOldSelf ? RuleType.OptionalOf(type) : type;
        if (Check(Rule, type, oldSelf, out var checker) is not { } program)
        {
            Error = "compilation failed: " + string.Join('\n', checker.Issues);
            errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("rule").ToString(), value, Error));
            return;
        }

        if (!(checker.Result.IsDyn || checker.Result.Kind == RuleKind.Bool))
        {
            Error = "cel expression must evaluate to a bool";
            errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("rule").ToString(), value, Error));
            return;
        }

        Program = program;
        UsesOldSelf = checker.UsesOldSelf;
        EstimatedCost = checker.EstimatedCost;
        if (EstimatedCost > StaticEstimatedCostLimit)
        {
            errors.Add(FieldError.Forbidden(path.Child("rule"), CostErrorMessage("estimated rule cost", EstimatedCost, StaticEstimatedCostLimit)));
        }

        if (UsesOldSelf && uncorrelatable is not null)
        {
            errors.Add(FieldError.Invalid(path.Child("rule"), Rule, $"oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}"));
        }

        if (OptionalOldSelf && !UsesOldSelf)
        {
            errors.Add(FieldError.Forbidden(path.Child("optionalOldSelf"), "may not be set if rule does not use oldSelf"));
        }

        if (MessageExpression.Trim().Length > 0)
        {
            if (Check(MessageExpression, type, type, out var messageChecker) is not { } message)
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("messageExpression").ToString(), value, "messageExpression compilation failed: " + string.Join('\n', messageChecker.Issues)));
            }
            else if (!(messageChecker.Result.IsDyn || messageChecker.Result.Kind == RuleKind.String))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, path.Child("messageExpression").ToString(), value, "messageExpression must evaluate to a string"));
            }
            else
            {
                MessageProgram = message;
            }
        }
    }

    private static CelProgramDelegate? Check(string source, RuleType self, RuleType oldSelf, out CheckResult result)
    {
        var issues = new List<string>();
        var start = RuleParser.Parse(source, issues);
        if (start is null)
        {
            result = new CheckResult(issues, RuleType.Dyn, false, 0);
            return null;
        }

        var checker = new RuleChecker(source, self, oldSelf);
        var type = checker.Check(start);
        result = new CheckResult(checker.Issues, type, checker.UsesOldSelf, checker.EstimatedCost);
        if (checker.Issues.Count > 0)
        {
            return null;
        }

        try
        {
            return CelLibrary.Environment.Compile(start);
        }
        catch (CelException e)
        {
            result = new CheckResult([RuleParser.Issue(source, 1, 1, e.Message)], type, false, 0);
            return null;
        }
    }

    /// <summary>kube's getCostErrorMessage.</summary>
    public static string CostErrorMessage(string costName, double cost, double limit)
    {
        var factor = cost / limit;
        var text = factor > 100 ? $"{costName} exceeds budget by more than 100x"
            : factor < 1.5 ? $"{costName} exceeds budget by factor of {factor.ToString("F6", CultureInfo.InvariantCulture)}"
            : $"{costName} exceeds budget by factor of {factor.ToString("F1", CultureInfo.InvariantCulture)}x";
        return $"{text} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
    }

    /// <summary>The rule as kube prints the invalid value: Go's %#v of the internal ValidationRule.</summary>
    private string GoValue(JsonObject rule)
    {
        var text = new StringBuilder("apiextensions.ValidationRule{");
        text.Append("Rule:").Append(GoSyntax.Quote(Rule));
        text.Append(", Message:").Append(GoSyntax.Quote(Message));
        text.Append(", MessageExpression:").Append(GoSyntax.Quote(MessageExpression));
        text.Append(", Reason:(*apiextensions.FieldValueErrorReason)(").Append(Reason is null ? "nil" : "0xc000010000").Append(')');
        text.Append(", FieldPath:").Append(GoSyntax.Quote(FieldPath));
        text.Append(", OptionalOldSelf:(*bool)(").Append(rule["optionalOldSelf"] is null ? "nil" : "0xc000010008").Append(")}");
        return text.ToString();
    }

    private static string? Text(JsonObject rule, string name) => rule[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private sealed record CheckResult(IReadOnlyList<string> Issues, RuleType Result, bool UsesOldSelf, double EstimatedCost);
}
