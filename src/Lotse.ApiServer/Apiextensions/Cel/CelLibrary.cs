using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using global::Cel;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// The CEL environment rules run in: the Cel package's standard functions and macros plus the parts
/// of kube's CEL libraries rules use most — the extended string functions (charAt, indexOf,
/// lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join), kube's list library
/// (isSorted, sum, min, max, indexOf, lastIndexOf), its regex library (find, findAll) and the
/// optional functions of <c>optionalOldSelf</c> (hasValue, value, orValue). <c>matches</c> is
/// replaced by a linear-time (non-backtracking) match, like RE2 in kube, so no pattern can hang a
/// request. The environment holds no per-request state: it is built once and shared.
/// </summary>
public static class CelLibrary
{
    /// <summary>The functions the type checker knows, with the type they return.</summary>
    public static readonly IReadOnlySet<string> MemberFunctions = new HashSet<string>(StringComparer.Ordinal)
    {
        "size", "startsWith", "endsWith", "contains", "matches", "charAt", "indexOf", "lastIndexOf", "lowerAscii",
        "upperAscii", "replace", "split", "substring", "trim", "join", "isSorted", "sum", "min", "max", "find", "findAll",
        "hasValue", "value", "orValue",
    };

    public static readonly IReadOnlySet<string> GlobalFunctions = new HashSet<string>(StringComparer.Ordinal)
    {
        "size", "matches", "int", "uint", "double", "string", "bool", "bytes", "dyn", "type", "duration", "timestamp",
    };

    private const int RegexCacheSize = 512;

    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    public static CelEnvironment Environment { get; } = Create();

    private static CelEnvironment Create()
    {
        var env = new CelEnvironment(null, null);
        env.RegisterFunction("matches", [typeof(string), typeof(string)], a => Pattern((string)a[1]!).IsMatch((string)a[0]!));
        env.RegisterFunction("find", [typeof(string), typeof(string)], a => Pattern((string)a[1]!).Match((string)a[0]!) is { Success: true } m ? m.Value : string.Empty);
        env.RegisterFunction("findAll", [typeof(string), typeof(string)], a => FindAll((string)a[0]!, (string)a[1]!, -1));
        env.RegisterFunction("findAll", [typeof(string), typeof(string), typeof(long)], a => FindAll((string)a[0]!, (string)a[1]!, (long)a[2]!));

        env.RegisterFunction("charAt", [typeof(string), typeof(long)], a => CharAt((string)a[0]!, (long)a[1]!));
        env.RegisterFunction("indexOf", [typeof(string), typeof(string)], a => (long)((string)a[0]!).IndexOf((string)a[1]!, StringComparison.Ordinal));
        env.RegisterFunction("indexOf", [typeof(string), typeof(string), typeof(long)], a => (long)((string)a[0]!).IndexOf((string)a[1]!, Offset((string)a[0]!, (long)a[2]!), StringComparison.Ordinal));
        env.RegisterFunction("lastIndexOf", [typeof(string), typeof(string)], a => (long)((string)a[0]!).LastIndexOf((string)a[1]!, StringComparison.Ordinal));
        env.RegisterFunction("lowerAscii", [typeof(string)], a => Ascii((string)a[0]!, upper: false));
        env.RegisterFunction("upperAscii", [typeof(string)], a => Ascii((string)a[0]!, upper: true));
        env.RegisterFunction("replace", [typeof(string), typeof(string), typeof(string)], a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, -1));
        env.RegisterFunction("replace", [typeof(string), typeof(string), typeof(string), typeof(long)], a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, (long)a[3]!));
        env.RegisterFunction("split", [typeof(string), typeof(string)], a => Split((string)a[0]!, (string)a[1]!, -1));
        env.RegisterFunction("split", [typeof(string), typeof(string), typeof(long)], a => Split((string)a[0]!, (string)a[1]!, (long)a[2]!));
        env.RegisterFunction("substring", [typeof(string), typeof(long)], a => Substring((string)a[0]!, (long)a[1]!, null));
        env.RegisterFunction("substring", [typeof(string), typeof(long), typeof(long)], a => Substring((string)a[0]!, (long)a[1]!, (long)a[2]!));
        env.RegisterFunction("trim", [typeof(string)], a => ((string)a[0]!).Trim());
        env.RegisterFunction("join", [typeof(IList)], a => Join((IList)a[0]!, string.Empty));
        env.RegisterFunction("join", [typeof(IList), typeof(string)], a => Join((IList)a[0]!, (string)a[1]!));

        env.RegisterFunction("isSorted", [typeof(IList)], a => IsSorted((IList)a[0]!));
        env.RegisterFunction("sum", [typeof(IList)], a => Sum((IList)a[0]!));
        env.RegisterFunction("min", [typeof(IList)], a => Extreme((IList)a[0]!, 1));
        env.RegisterFunction("max", [typeof(IList)], a => Extreme((IList)a[0]!, -1));
        env.RegisterFunction("indexOf", [typeof(IList), typeof(object)], a => ListIndexOf((IList)a[0]!, a[1], last: false));
        env.RegisterFunction("lastIndexOf", [typeof(IList), typeof(object)], a => ListIndexOf((IList)a[0]!, a[1], last: true));

        env.RegisterFunction("hasValue", [typeof(CelOptional)], a => ((CelOptional)a[0]!).HasValue);
        env.RegisterFunction("value", [typeof(CelOptional)], a => a[0] is CelOptional { HasValue: true } o ? o.Value : throw new CelNoSuchFieldException("optional.none() dereference"));
        env.RegisterFunction("orValue", [typeof(CelOptional), typeof(object)], a => a[0] is CelOptional { HasValue: true } o ? o.Value : a[1]);
        return env;
    }

    /// <summary>A compiled linear-time pattern (RE2 semantics as far as .NET's non-backtracking engine has them).</summary>
    public static Regex Pattern(string pattern)
    {
        if (Patterns.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        try
        {
            regex = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new CelArgumentRangeException($"invalid regular expression: {pattern}: {e.Message}");
        }

        if (Patterns.Count >= RegexCacheSize)
        {
            Patterns.Clear();
        }

        Patterns[pattern] = regex;
        return regex;
    }

    private static CelList FindAll(string text, string pattern, long limit)
    {
        var found = new List<object?>();
        foreach (Match match in Pattern(pattern).Matches(text))
        {
            if (limit >= 0 && found.Count >= limit)
            {
                break;
            }

            CostBudget.ChargeCurrent(1);
            found.Add(match.Value);
        }

        return new CelList([.. found]);
    }

    private static string CharAt(string text, long index) =>
        index == text.Length ? string.Empty
        : index >= 0 && index < text.Length ? text[(int)index].ToString()
        : throw new CelArgumentRangeException($"index out of range: {index}");

    private static int Offset(string text, long offset) =>
        offset >= 0 && offset <= text.Length ? (int)offset : throw new CelArgumentRangeException($"index out of range: {offset}");

    private static string Ascii(string text, bool upper)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsAscii(chars[i]))
            {
                chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    private static string Replace(string text, string from, string to, long limit)
    {
        if (limit < 0)
        {
            return from.Length == 0 ? Replace(text, from, to, text.Length + 1) : text.Replace(from, to, StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        var at = 0;
        for (var n = 0; n < limit; n++)
        {
            var next = from.Length == 0 ? (at <= text.Length ? at : -1) : text.IndexOf(from, at, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            CostBudget.ChargeCurrent(1);
            result.Append(text, at, next - at).Append(to);
            if (from.Length == 0)
            {
                if (next < text.Length)
                {
                    result.Append(text[next]);
                }

                at = next + 1;
            }
            else
            {
                at = next + from.Length;
            }
        }

        if (at < text.Length)
        {
            result.Append(text, at, text.Length - at);
        }

        return result.ToString();
    }

    private static CelList Split(string text, string separator, long limit)
    {
        if (limit == 0)
        {
            return new CelList([]);
        }

        string[] parts = separator.Length == 0
            ? [.. text.Select(c => c.ToString())]
            : limit > 0 ? text.Split(separator, (int)Math.Min(limit, int.MaxValue)) : text.Split(separator);
        if (separator.Length == 0 && limit > 0 && parts.Length > limit)
        {
            parts = [.. parts.Take((int)limit - 1), text[((int)limit - 1)..]];
        }

        CostBudget.ChargeCurrent(parts.Length);
        return new CelList([.. parts]);
    }

    private static string Substring(string text, long start, long? end)
    {
        var last = end ?? text.Length;
        if (start < 0 || start > text.Length || last < start || last > text.Length)
        {
            throw new CelArgumentRangeException(end is null ? $"index out of range: {start}" : $"invalid substring range. start: {start}, end: {last}");
        }

        return text[(int)start..(int)last];
    }

    private static string Join(IList list, string separator)
    {
        var parts = new List<string>();
        foreach (var item in list)
        {
            parts.Add(item as string ?? throw new CelNoSuchOverloadException("no such overload: join"));
        }

        return string.Join(separator, parts);
    }

    private static bool IsSorted(IList list)
    {
        object? previous = null;
        var first = true;
        foreach (var item in list)
        {
            if (!first && Compare(previous, item) > 0)
            {
                return false;
            }

            previous = item;
            first = false;
        }

        return true;
    }

    private static object Sum(IList list)
    {
        long ints = 0;
        double doubles = 0;
        var isDouble = false;
        foreach (var item in list)
        {
            switch (item)
            {
                case long l:
                    ints = checked(ints + l);
                    break;
                case double d:
                    isDouble = true;
                    doubles += d;
                    break;
                default:
                    throw new CelNoSuchOverloadException("no such overload: sum");
            }
        }

        return isDouble ? doubles + ints : ints;
    }

    private static object? Extreme(IList list, int sign)
    {
        object? best = null;
        var any = false;
        foreach (var item in list)
        {
            if (!any || Compare(item, best) * sign < 0)
            {
                best = item;
            }

            any = true;
        }

        return any ? best : throw new CelArgumentRangeException(sign > 0 ? "min(list) argument must not be empty" : "max(list) argument must not be empty");
    }

    private static long ListIndexOf(IList list, object? value, bool last)
    {
        var found = -1L;
        var i = 0L;
        foreach (var item in list)
        {
            if (Equals(item, value) || (IsNumber(item) && IsNumber(value) && Compare(item, value) == 0))
            {
                found = i;
                if (!last)
                {
                    break;
                }
            }

            i++;
        }

        return found;
    }

    private static bool IsNumber(object? value) => value is long or double or int or ulong;

    private static int Compare(object? a, object? b) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        (bool x, bool y) => x.CompareTo(y),
        _ when IsNumber(a) && IsNumber(b) => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
        _ => throw new CelNoSuchOverloadException("no such overload: list elements are not comparable"),
    };
}
