using k8s.Models;
using Lotse.Client.Selectors;

namespace Lotse.Client.Tests.Informers;

public class LabelSelectorsTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front" };

    [Fact]
    public void Matches_NullSelector_MatchesNothing() => Assert.False(LabelSelectors.Matches(null, Labels));

    [Fact]
    public void Matches_EmptySelector_MatchesEverything() => Assert.True(LabelSelectors.Matches(new V1LabelSelector(), Labels));

    [Theory]
    [InlineData("In", "web", true)]
    [InlineData("In", "db", false)]
    [InlineData("NotIn", "web", false)]
    [InlineData("NotIn", "db", true)]
    public void Matches_Expressions(string op, string value, bool expected) =>
        Assert.Equal(expected, LabelSelectors.Matches(new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app", OperatorProperty = op, Values = [value] }] }, Labels));

    [Fact]
    public void Matches_ExistsAndMatchLabels()
    {
        Assert.True(LabelSelectors.Matches(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" }, MatchExpressions = [new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "Exists" }] }, Labels));
        Assert.False(LabelSelectors.Matches(new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "DoesNotExist" }] }, Labels));
        Assert.False(LabelSelectors.Matches(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } }, Labels));
    }
}
