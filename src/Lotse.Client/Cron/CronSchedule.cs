using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Lotse.Client.Cron;

/// <summary>
/// A CronJob schedule in the standard cron syntax Kubernetes accepts (robfig/cron's standard
/// parser): five fields — minute, hour, day of month, month, day of week — each <c>*</c> (or
/// <c>?</c> for the days), numbers, <c>a-b</c> ranges, <c>/step</c>, comma lists, month and weekday
/// names; or one of <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>,
/// <c>@daily</c>, <c>@midnight</c>, <c>@hourly</c>. When both day fields are restricted a day
/// matching either one fires. Times are wall-clock times in the schedule's time zone.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] MonthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _days;
    private readonly ulong _months;
    private readonly ulong _weekdays;
    private readonly bool _anyDay;
    private readonly bool _anyWeekday;

    private CronSchedule(ulong minutes, ulong hours, ulong days, ulong months, ulong weekdays, bool anyDay, bool anyWeekday)
    {
        _minutes = minutes;
        _hours = hours;
        _days = days;
        _months = months;
        _weekdays = weekdays;
        _anyDay = anyDay;
        _anyWeekday = anyWeekday;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> with the reason when it is not a schedule.</summary>
    public static CronSchedule Parse(string text)
    {
        var spec = text.Trim();
        if (spec.StartsWith('@'))
        {
            spec = spec switch
            {
                "@yearly" or "@annually" => "0 0 1 1 *",
                "@monthly" => "0 0 1 * *",
                "@weekly" => "0 0 * * 0",
                "@daily" or "@midnight" => "0 0 * * *",
                "@hourly" => "0 * * * *",
                _ => throw new FormatException($"unrecognized descriptor: {spec}"),
            };
        }

        var fields = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"expected exactly 5 fields, found {fields.Length}: [{string.Join(' ', fields)}]");
        }

        return new CronSchedule(
            Field(fields[0], 0, 59, null),
            Field(fields[1], 0, 23, null),
            Field(fields[2], 1, 31, null),
            Field(fields[3], 1, 12, MonthNames),
            Field(fields[4], 0, 6, DayNames),
            fields[2] is "*" or "?",
            fields[4] is "*" or "?");
    }

    public static bool TryParse(string text, [NotNullWhen(true)] out CronSchedule? schedule, [NotNullWhen(false)] out string? error)
    {
        try
        {
            schedule = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            schedule = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>The first time after <paramref name="after"/> the schedule fires, in <paramref name="zone"/>'s wall clock; null when it never does (e.g. 30 February).</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var t = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!Has(_months, t.Month))
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
            }
            else if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
            }
            else if (!Has(_hours, t.Hour))
            {
                t = t.Date.AddHours(t.Hour + 1);
            }
            else if (!Has(_minutes, t.Minute))
            {
                t = t.AddMinutes(1);
            }
            else if (zone.IsInvalidTime(t))
            {
                // Skipped by a clock change: this wall-clock time never happens.
                t = t.AddMinutes(1);
            }
            else
            {
                var offset = zone.IsAmbiguousTime(t) ? zone.GetAmbiguousTimeOffsets(t).Max() : zone.GetUtcOffset(t);
                return new DateTimeOffset(t, offset);
            }
        }

        return null;
    }

    private bool DayMatches(DateTime t)
    {
        var day = Has(_days, t.Day);
        var weekday = Has(_weekdays, (int)t.DayOfWeek);
        return _anyDay || _anyWeekday ? day && weekday : day || weekday;
    }

    private static bool Has(ulong bits, int value) => (bits & (1UL << value)) != 0;

    private static ulong Field(string field, int min, int max, string[]? names)
    {
        ulong bits = 0;
        foreach (var part in field.Split(','))
        {
            bits |= Range(part, min, max, names);
        }

        return bits;
    }

    private static ulong Range(string part, int min, int max, string[]? names)
    {
        var slash = part.Split('/');
        if (slash.Length > 2)
        {
            throw new FormatException($"too many slashes: {part}");
        }

        var range = slash[0];
        int low, high;
        if (range is "*" or "?")
        {
            (low, high) = (min, max);
        }
        else
        {
            var dash = range.Split('-');
            if (dash.Length > 2)
            {
                throw new FormatException($"too many hyphens: {part}");
            }

            low = Value(dash[0], names, min);
            high = dash.Length == 2 ? Value(dash[1], names, min) : (slash.Length == 2 ? max : low);
        }

        var step = 1;
        if (slash.Length == 2 && (!int.TryParse(slash[1], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step <= 0))
        {
            throw new FormatException($"step must be a positive number: {part}");
        }

        if (low < min)
        {
            throw new FormatException($"beginning of range ({low}) below minimum ({min}): {part}");
        }

        if (high > max)
        {
            throw new FormatException($"end of range ({high}) above maximum ({max}): {part}");
        }

        if (low > high)
        {
            throw new FormatException($"beginning of range ({low}) beyond end of range ({high}): {part}");
        }

        ulong bits = 0;
        for (var v = low; v <= high; v += step)
        {
            bits |= 1UL << v;
        }

        return bits;
    }

    private static int Value(string text, string[]? names, int min)
    {
        if (names is not null)
        {
            var index = Array.IndexOf(names, text.ToLowerInvariant());
            if (index >= 0)
            {
                return index + (min == 1 ? 1 : 0);
            }
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax");
    }
}
