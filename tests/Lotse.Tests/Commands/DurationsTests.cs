using Lotse.Commands;

namespace Lotse.Tests.Commands;

public class DurationsTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("300ms", 0.3)]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5s", 1.5)]
    public void TryParse_GoDuration_ReturnsSeconds(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds, 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5 m")]
    [InlineData("m5")]
    [InlineData("5d")]
    [InlineData("5mx")]
    public void TryParse_Malformed_ReturnsFalse(string text) =>
        Assert.False(Durations.TryParse(text, out _));
}
