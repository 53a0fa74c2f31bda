using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Validation;

namespace Lotse.ApiServer.Selectors;

public enum SelectorOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// <summary>One requirement of a label selector: a key, an operator, and its values.</summary>
public sealed record LabelRequirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            SelectorOperator.Equals or SelectorOperator.In => has && Values.Contains(value!),
            SelectorOperator.NotEquals or SelectorOperator.NotIn => !has || !Values.Contains(value!),
            SelectorOperator.Exists => has,
            SelectorOperator.DoesNotExist => !has,
            SelectorOperator.GreaterThan => has && long.TryParse(value, out var g) && g > long.Parse(Values[0], CultureInfo.InvariantCulture),
            _ => has && long.TryParse(value, out var l) && l < long.Parse(Values[0], CultureInfo.InvariantCulture),
        };
    }

    public override string ToString() => Operator switch
    {
        SelectorOperator.Equals => $"{Key}={Values[0]}",
        SelectorOperator.NotEquals => $"{Key}!={Values[0]}",
        SelectorOperator.In => $"{Key} in ({string.Join(",", Values)})",
        SelectorOperator.NotIn => $"{Key} notin ({string.Join(",", Values)})",
        SelectorOperator.Exists => Key,
        SelectorOperator.DoesNotExist => "!" + Key,
        SelectorOperator.GreaterThan => $"{Key}>{Values[0]}",
        _ => $"{Key}<{Values[0]}",
    };
}

/// <summary>
/// A label selector (apimachinery's labels.Selector): requirements joined by commas, all of which
/// must hold. The string grammar is kubernetes': <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>,
/// <c>a in (b,c)</c>, <c>a notin (b)</c>, <c>a</c>, <c>!a</c>, <c>a&gt;1</c>, <c>a&lt;1</c>.
/// </summary>
public sealed class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => Requirements = requirements;

    public static LabelSelector Empty { get; } = new([]);

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r.Matches(labels));

    public override string ToString() => string.Join(",", Requirements);

    public static LabelSelector Parse(string text)
    {
        var tokens = Tokenize(text);
        var requirements = new List<LabelRequirement>();
        var i = 0;
        while (i < tokens.Count)
        {
            requirements.Add(ParseRequirement(tokens, ref i));
            if (i < tokens.Count)
            {
                if (tokens[i] != ",")
                {
                    throw Error($"found '{tokens[i]}', expected: ',' or 'end of string'");
                }

                i++;
                if (i == tokens.Count)
                {
                    throw Error("found 'end of string', expected: identifier");
                }
            }
        }

        return new LabelSelector(requirements);
    }

    private static LabelRequirement ParseRequirement(List<string> tokens, ref int i)
    {
        if (tokens[i] == "!")
        {
            i++;
            var notKey = Identifier(tokens, ref i);
            return Requirement(notKey, SelectorOperator.DoesNotExist, []);
        }

        var key = Identifier(tokens, ref i);
        if (i == tokens.Count || tokens[i] == ",")
        {
            return Requirement(key, SelectorOperator.Exists, []);
        }

        var op = tokens[i++];
        switch (op)
        {
            case "=" or "==" or "!=" or ">" or "<":
                var value = i < tokens.Count && !IsOperator(tokens[i]) ? tokens[i++] : string.Empty;
                var kind = op switch { "!=" => SelectorOperator.NotEquals, ">" => SelectorOperator.GreaterThan, "<" => SelectorOperator.LessThan, _ => SelectorOperator.Equals };
                return Requirement(key, kind, [value]);
            case "in" or "notin":
                if (i == tokens.Count || tokens[i] != "(")
                {
                    throw Error($"found '{(i < tokens.Count ? tokens[i] : "end of string")}', expected: '('");
                }

                i++;
                var values = new List<string>();
                while (true)
                {
                    if (i == tokens.Count)
                    {
                        throw Error("found 'end of string', expected: ')'");
                    }

                    if (tokens[i] == ")")
                    {
                        i++;
                        break;
                    }

                    if (tokens[i] == ",")
                    {
                        values.Add(string.Empty);
                        i++;
                        continue;
                    }

                    if (IsOperator(tokens[i]))
                    {
                        throw Error($"found '{tokens[i]}', expected: ',', ')' or identifier");
                    }

                    values.Add(tokens[i++]);
                    if (i < tokens.Count && tokens[i] == ",")
                    {
                        i++;
                        if (i < tokens.Count && tokens[i] == ")")
                        {
                            values.Add(string.Empty);
                        }
                    }
                }

                if (values.Count == 0)
                {
                    throw Error($"for '{op}', 'notin' operators, values set can't be empty");
                }

                return Requirement(key, op == "in" ? SelectorOperator.In : SelectorOperator.NotIn, values);
            default:
                throw Error($"found '{op}', expected: in, notin, =, ==, !=, gt, lt");
        }
    }

    private static LabelRequirement Requirement(string key, SelectorOperator op, IReadOnlyList<string> values)
    {
        var keyErrors = Names.IsQualifiedName(key);
        if (keyErrors.Count > 0)
        {
            throw Error($"key: Invalid value: {FieldError.Quote(key)}: {string.Join("; ", keyErrors)}");
        }

        foreach (var value in values)
        {
            if (op is SelectorOperator.GreaterThan or SelectorOperator.LessThan)
            {
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                {
                    throw Error($"for 'Gt', 'Lt' operators, the value must be an integer: {value}");
                }

                continue;
            }

            var valueErrors = Names.IsValidLabelValue(value);
            if (valueErrors.Count > 0)
            {
                throw Error($"values[0][{key}]: Invalid value: {FieldError.Quote(value)}: {string.Join("; ", valueErrors)}");
            }
        }

        return new LabelRequirement(key, op, values);
    }

    private static string Identifier(List<string> tokens, ref int i)
    {
        if (i == tokens.Count || IsOperator(tokens[i]))
        {
            throw Error($"found '{(i < tokens.Count ? tokens[i] : "end of string")}', expected: identifier");
        }

        return tokens[i++];
    }

    private static bool IsOperator(string token) => token is "(" or ")" or "," or "=" or "==" or "!=" or "!" or ">" or "<";

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c is '(' or ')' or ',' or '<' or '>')
            {
                tokens.Add(c.ToString());
                i++;
                continue;
            }

            if (c == '=')
            {
                var doubled = i + 1 < text.Length && text[i + 1] == '=';
                tokens.Add(doubled ? "==" : "=");
                i += doubled ? 2 : 1;
                continue;
            }

            if (c == '!')
            {
                var ne = i + 1 < text.Length && text[i + 1] == '=';
                tokens.Add(ne ? "!=" : "!");
                i += ne ? 2 : 1;
                continue;
            }

            var word = new StringBuilder();
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or ',' or '=' or '!' or '<' or '>'))
            {
                word.Append(text[i++]);
            }

            tokens.Add(word.ToString());
        }

        // "in" and "notin" are operators only right after a key; a key named "in" still works as a key.
        return tokens;
    }

    private static StatusException Error(string detail) => StatusException.BadRequest($"unable to parse requirement: {detail}");

    /// <summary>A metav1.LabelSelector object (matchLabels and matchExpressions).</summary>
    public static LabelSelector FromLabelSelectorJson(JsonObject selector)
    {
        var requirements = new List<LabelRequirement>();
        if (selector["matchLabels"] is JsonObject matchLabels)
        {
            foreach (var (k, v) in matchLabels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                requirements.Add(Requirement(k, SelectorOperator.Equals, [v?.ToString() ?? string.Empty]));
            }
        }

        if (selector["matchExpressions"] is JsonArray expressions)
        {
            foreach (var e in expressions.OfType<JsonObject>())
            {
                var key = e["key"]?.ToString() ?? string.Empty;
                var values = (e["values"] as JsonArray)?.Select(v => v?.ToString() ?? string.Empty).ToList() ?? [];
                var op = e["operator"]?.ToString() switch
                {
                    "In" => SelectorOperator.In,
                    "NotIn" => SelectorOperator.NotIn,
                    "Exists" => SelectorOperator.Exists,
                    "DoesNotExist" => SelectorOperator.DoesNotExist,
                    var other => throw StatusException.BadRequest($"{FieldError.Quote(other ?? string.Empty)} is not a valid label selector operator"),
                };
                requirements.Add(Requirement(key, op, values));
            }
        }

        return new LabelSelector(requirements);
    }
}
