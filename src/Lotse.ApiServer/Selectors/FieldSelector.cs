using System.Text;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Selectors;

/// <summary>One term of a field selector: a field, equal or not, and a value.</summary>
public sealed record FieldRequirement(string Field, bool Equal, string Value);

/// <summary>
/// A field selector (apimachinery's fields.Selector): <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, joined by
/// commas; a backslash escapes <c>\ , =</c> in values. Which fields a kind supports is the caller's check.
/// </summary>
public sealed class FieldSelector
{
    private FieldSelector(IReadOnlyList<FieldRequirement> requirements) => Requirements = requirements;

    public IReadOnlyList<FieldRequirement> Requirements { get; }

    public IReadOnlyList<string> Fields => [.. Requirements.Select(r => r.Field).Distinct()];

    public bool Matches(Func<string, string?> getField) =>
        Requirements.All(r => (getField(r.Field) ?? string.Empty) == r.Value == r.Equal);

    /// <summary>The name when the selector is exactly <c>metadata.name=x</c> (a fast path for lookups).</summary>
    public bool TryGetExactName(out string name)
    {
        name = string.Empty;
        if (Requirements is [{ Field: "metadata.name", Equal: true } only])
        {
            name = only.Value;
            return true;
        }

        return false;
    }

    public static FieldSelector Parse(string text)
    {
        var requirements = new List<FieldRequirement>();
        foreach (var term in SplitUnescaped(text, ','))
        {
            if (term.Trim().Length == 0)
            {
                continue;
            }

            var (field, equal, value) = SplitTerm(term);
            requirements.Add(new FieldRequirement(field, equal, value));
        }

        return new FieldSelector(requirements);
    }

    private static (string Field, bool Equal, string Value) SplitTerm(string term)
    {
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            var equal = term[i] == '=';
            var notEqual = term[i] == '!' && i + 1 < term.Length && term[i + 1] == '=';
            if (!equal && !notEqual)
            {
                continue;
            }

            var field = term[..i].Trim();
            var rest = notEqual ? term[(i + 2)..] : term[(i + 1)..];
            if (equal && rest.StartsWith('='))
            {
                rest = rest[1..];
            }

            if (field.Length == 0)
            {
                break;
            }

            return (field, !notEqual, Unescape(rest));
        }

        throw StatusException.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
    }

    private static IEnumerable<string> SplitUnescaped(string text, char separator)
    {
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                current.Append(text[i]).Append(text[i + 1]);
                i++;
            }
            else if (text[i] == separator)
            {
                yield return current.ToString();
                current.Clear();
            }
            else
            {
                current.Append(text[i]);
            }
        }

        yield return current.ToString();
    }

    private static string Unescape(string value)
    {
        var result = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                if (i + 1 >= value.Length || value[i + 1] is not ('\\' or ',' or '='))
                {
                    throw StatusException.BadRequest($"invalid field selector: invalid escape sequence in '{value}'");
                }

                i++;
            }
            else if (value[i] is '=' or ',')
            {
                throw StatusException.BadRequest($"invalid field selector: unescaped '{value[i]}' in '{value}'");
            }

            result.Append(value[i]);
        }

        return result.ToString();
    }
}
