using System.Globalization;
using System.Text;

namespace Lotse.Controllers.Job;

/// <summary>The <c>status.completedIndexes</c> format of Indexed Jobs: sorted ranges, "1,3-5,7".</summary>
public static class CompletedIndexes
{
    public static string? Format(IEnumerable<int> indexes)
    {
        var sorted = indexes.Distinct().Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder();
        for (var i = 0; i < sorted.Count; i++)
        {
            var start = sorted[i];
            while (i + 1 < sorted.Count && sorted[i + 1] == sorted[i] + 1)
            {
                i++;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(start.ToString(CultureInfo.InvariantCulture));
            if (sorted[i] != start)
            {
                text.Append('-').Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    public static IEnumerable<int> Parse(string? text)
    {
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var from = int.Parse(dash < 0 ? part : part[..dash], CultureInfo.InvariantCulture);
            var to = dash < 0 ? from : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            for (var i = from; i <= to; i++)
            {
                yield return i;
            }
        }
    }
}
