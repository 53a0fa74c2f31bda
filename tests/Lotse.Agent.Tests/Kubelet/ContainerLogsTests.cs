using System.Text;
using Lotse.Agent.Kubelet;

namespace Lotse.Agent.Tests.Kubelet;

public sealed class ContainerLogsTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Theory]
    [InlineData("2026-12-03T07:00:00.123456789Z stdout F hello world", "stdout", false, "hello world")]
    [InlineData("2026-12-03T07:00:00.123456789Z stderr P part", "stderr", true, "part")]
    [InlineData("2026-12-03T07:00:00Z stdout F ", "stdout", false, "")]
    [InlineData("2026-12-03T07:00:00Z stdout F", "stdout", false, "")]
    public void Parse_CriLines(string line, string stream, bool partial, string text)
    {
        Assert.True(ContainerLogs.TryParse(line, out _, out var s, out var p, out var t));
        Assert.Equal((stream, partial, text), (s, p, t));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a log line")]
    [InlineData("yesterday stdout F text")]
    public void Parse_RejectsOtherLines(string line) =>
        Assert.False(ContainerLogs.TryParse(line, out _, out _, out _, out _));

    private async Task<string> ReadAsync(LogOptions options)
    {
        await File.WriteAllTextAsync(_file, """
            2026-12-03T07:00:00.000000001Z stdout F one
            2026-12-03T07:00:01.000000002Z stderr P tw
            2026-12-03T07:00:01.000000003Z stderr F o
            2026-12-03T07:00:02.000000004Z stdout F three

            """);
        using var output = new MemoryStream();
        await ContainerLogs.WriteAsync(_file, options, output, () => Task.FromResult(false), CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    [Fact]
    public async Task Write_JoinsPartialLines() => Assert.Equal("one\ntwo\nthree\n", await ReadAsync(new LogOptions()));

    [Fact]
    public async Task Write_TailSinceLimitAndTimestamps()
    {
        Assert.Equal("three\n", await ReadAsync(new LogOptions { TailLines = 1 }));
        Assert.Equal("two\nthree\n", await ReadAsync(new LogOptions { Since = DateTimeOffset.Parse("2026-12-03T07:00:00.5Z", System.Globalization.CultureInfo.InvariantCulture) }));
        Assert.Equal("one\ntw", await ReadAsync(new LogOptions { LimitBytes = 6 }));
        Assert.StartsWith("2026-12-03T07:00:00.000000001Z one\n", await ReadAsync(new LogOptions { Timestamps = true }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Follow_EndsWhenTheContainerStops()
    {
        await File.WriteAllTextAsync(_file, "2026-12-03T07:00:00Z stdout F first\n");
        using var output = new MemoryStream();
        var checks = 0;
        var follow = ContainerLogs.WriteAsync(_file, new LogOptions { Follow = true }, output, () => Task.FromResult(++checks < 2), CancellationToken.None);
        await Task.Delay(300);
        await File.AppendAllTextAsync(_file, "2026-12-03T07:00:01Z stdout F second\n");
        await follow.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("first\nsecond\n", Encoding.UTF8.GetString(output.ToArray()));
    }
}
