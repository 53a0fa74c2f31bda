using System.Globalization;
using System.Text;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// The short hashes controllers put into names and labels (<c>pod-template-hash</c>,
/// <c>controller-revision-hash</c>): FNV-1a over the text, its decimal digits written with
/// kubernetes' safe alphabet (no vowels, no confusable characters).
/// </summary>
public static class SafeHash
{
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Of(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        var digits = hash.ToString(CultureInfo.InvariantCulture);
        return string.Create(digits.Length, digits, (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = SafeAlphabet[source[i] % SafeAlphabet.Length];
            }
        });
    }
}
