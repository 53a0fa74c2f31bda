using System.Globalization;

namespace Lotse.ApiServer.Patching;

/// <summary>An RFC 6901 JSON pointer: <c>""</c> is the whole document, otherwise <c>/</c>-separated tokens with <c>~1</c> for <c>/</c> and <c>~0</c> for <c>~</c>.</summary>
internal sealed class JsonPointer
{
    private JsonPointer(string text, string[] tokens)
    {
        Text = text;
        Tokens = tokens;
    }

    public string Text { get; }

    public IReadOnlyList<string> Tokens { get; }

    public bool IsRoot => Tokens.Count == 0;

    public string Last => Tokens[^1];

    public static bool TryParse(string text, out JsonPointer pointer)
    {
        pointer = null!;
        if (text.Length == 0)
        {
            pointer = new JsonPointer(text, []);
            return true;
        }

        if (text[0] != '/')
        {
            return false;
        }

        var raw = text[1..].Split('/');
        var tokens = new string[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            // RFC 6901 §4: '~' must be followed by '0' or '1'; "~1" decodes before "~0" so "~01" is "~1".
            var token = raw[i];
            for (var t = token.IndexOf('~', StringComparison.Ordinal); t >= 0; t = token.IndexOf('~', t + 1))
            {
                if (t + 1 >= token.Length || (token[t + 1] != '0' && token[t + 1] != '1'))
                {
                    return false;
                }
            }

            tokens[i] = token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
        }

        pointer = new JsonPointer(text, tokens);
        return true;
    }

    /// <summary>True when this pointer names a proper descendant of <paramref name="other"/>.</summary>
    public bool IsInside(JsonPointer other) =>
        Tokens.Count > other.Tokens.Count && other.Tokens.Select((t, i) => t == Tokens[i]).All(same => same);

    /// <summary>
    /// An existing array position: digits without leading zeros (RFC 6901 §4), below <paramref name="count"/>
    /// (or equal to it when <paramref name="allowEnd"/>, for insertion). Returns -1 otherwise.
    /// </summary>
    public static int Index(string token, int count, bool allowEnd)
    {
        if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || !token.All(char.IsAsciiDigit))
        {
            return -1;
        }

        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return -1;
        }

        return index < count || (allowEnd && index == count) ? index : -1;
    }

    public override string ToString() => Text;
}
