using System.Globalization;
using k8s.Models;

namespace Lotse.Controllers.Runtime;

/// <summary>intstr.GetScaledValueFromIntOrPercent: "25%" of a total (rounded up or down), or the integer itself.</summary>
public static class IntOrPercent
{
    public static bool IsPercent(IntOrString value) => value.Value?.EndsWith('%') == true;

    public static int Scaled(IntOrString value, int total, bool roundUp)
    {
        var text = value.Value ?? string.Empty;
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
            {
                throw new FormatException($"invalid value for IntOrString: invalid value \"{text}\": must be an integer or percentage (e.g '5%')");
            }

            var exact = percent * (double)total / 100;
            return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"invalid value for IntOrString: invalid value \"{text}\": must be an integer or percentage (e.g '5%')");
    }
}
