using System.Globalization;

namespace Lotse.ApiServer.Tables;

/// <summary>Ages as kubectl shows them (apimachinery's duration.HumanDuration): 5s, 2m30s, 10m, 3h, 2d5h, 12d, 3y.</summary>
public static class HumanDuration
{
    public static string Format(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            var s = seconds % 60;
            return s == 0 ? $"{minutes}m" : $"{minutes}m{s}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            var m = minutes % 60;
            return m == 0 ? $"{hours}h" : $"{hours}h{m}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 192)
        {
            var h = hours % 24;
            return h == 0 ? $"{hours / 24}d" : $"{hours / 24}d{h}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            var days = (hours / 24) % 365;
            return days == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{days}d";
        }

        return $"{hours / 24 / 365}y";
    }

    /// <summary>The age of an RFC 3339 timestamp, or "&lt;unknown&gt;".</summary>
    public static string Since(string? timestamp, DateTimeOffset now) =>
        DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? Format(now - t) : "<unknown>";
}
