using Lotse.Client.Cron;

namespace Lotse.Client.Tests.Cron;

public sealed class CronScheduleTests
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.Utc;

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static string Next(string schedule, string after, TimeZoneInfo? zone = null) =>
        CronSchedule.Parse(schedule).Next(At(after), zone ?? Utc)?.ToString("yyyy-MM-dd HH:mm zzz", System.Globalization.CultureInfo.InvariantCulture) ?? "never";

    [Theory]
    [InlineData("* * * * *", "2026-03-01T10:15:30Z", "2026-03-01 10:16 +00:00")]
    [InlineData("*/15 * * * *", "2026-03-01T10:15:00Z", "2026-03-01 10:30 +00:00")]
    [InlineData("5/20 * * * *", "2026-03-01T10:46:00Z", "2026-03-01 11:05 +00:00")]
    [InlineData("0 9-17/4 * * *", "2026-03-01T13:00:00Z", "2026-03-01 17:00 +00:00")]
    [InlineData("30 2 * * mon-fri", "2026-03-06T03:00:00Z", "2026-03-09 02:30 +00:00")]
    [InlineData("0 0 1 jan,jul *", "2026-03-01T00:00:00Z", "2026-07-01 00:00 +00:00")]
    [InlineData("@hourly", "2026-03-01T10:00:00Z", "2026-03-01 11:00 +00:00")]
    [InlineData("@weekly", "2026-03-04T00:00:00Z", "2026-03-08 00:00 +00:00")]
    [InlineData("@yearly", "2026-03-01T00:00:00Z", "2027-01-01 00:00 +00:00")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29 00:00 +00:00")]
    [InlineData("0 0 30 2 *", "2026-03-01T00:00:00Z", "never")]
    public void Next_FindsTheFollowingTime(string schedule, string after, string expected) =>
        Assert.Equal(expected, Next(schedule, after));

    [Fact]
    public void BothDayFieldsRestricted_EitherMatches()
    {
        // The 13th of the month or any Friday: 2026-03-06 is a Friday, before the 13th.
        Assert.Equal("2026-03-06 00:00 +00:00", Next("0 0 13 * fri", "2026-03-01T00:00:00Z"));
        Assert.Equal("2026-03-13 00:00 +00:00", Next("0 0 13 * fri", "2026-03-06T00:00:00Z"));

        // With one of them unrestricted, only the other counts.
        Assert.Equal("2026-04-13 00:00 +00:00", Next("0 0 13 * *", "2026-03-14T00:00:00Z"));
        Assert.Equal("2026-03-20 00:00 +00:00", Next("0 0 ? * fri", "2026-03-14T00:00:00Z"));
    }

    [Fact]
    public void TimeZones_UseTheWallClock_AndSkipTimesAClockChangeRemoves()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.Equal("2026-07-01 09:00 +02:00", Next("0 9 * * *", "2026-07-01T00:00:00Z", berlin));
        Assert.Equal("2026-01-01 09:00 +01:00", Next("0 9 * * *", "2025-12-31T12:00:00Z", berlin));

        // 2026-03-29 02:30 does not exist in Berlin (clocks jump from 02:00 to 03:00).
        Assert.Equal("2026-03-30 02:30 +02:00", Next("30 2 * * *", "2026-03-28T12:00:00Z", berlin));
    }

    [Theory]
    [InlineData("", "expected exactly 5 fields, found 0: []")]
    [InlineData("* * * *", "expected exactly 5 fields, found 4: [* * * *]")]
    [InlineData("60 * * * *", "end of range (60) above maximum (59): 60")]
    [InlineData("* * 0 * *", "beginning of range (0) below minimum (1): 0")]
    [InlineData("*/0 * * * *", "step must be a positive number: */0")]
    [InlineData("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1")]
    [InlineData("x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax")]
    [InlineData("@every", "unrecognized descriptor: @every")]
    [InlineData("* * * * 7", "end of range (7) above maximum (6): 7")]
    public void Parse_RejectsWithCronsReason(string schedule, string reason)
    {
        Assert.False(CronSchedule.TryParse(schedule, out var parsed, out var error));
        Assert.Null(parsed);
        Assert.Equal(reason, error);
    }
}
