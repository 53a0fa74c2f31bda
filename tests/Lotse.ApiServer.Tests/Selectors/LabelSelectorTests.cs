using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Selectors;

namespace Lotse.ApiServer.Tests.Selectors;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front", ["n"] = "5" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app!=web", false)]
    [InlineData("app in (db,web)", true)]
    [InlineData("app notin (db,web)", false)]
    [InlineData("app", true)]
    [InlineData("!app", false)]
    [InlineData("!missing", true)]
    [InlineData("missing!=x", true)]
    [InlineData("app=web,tier=back", false)]
    [InlineData(" app = web , tier in ( front ) ", true)]
    [InlineData("n>4", true)]
    [InlineData("n<4", false)]
    [InlineData("", true)]
    public void Parse_ThenMatch_FollowsKubernetesGrammar(string selector, bool matches) =>
        Assert.Equal(matches, LabelSelector.Parse(selector).Matches(Labels));

    [Theory]
    [InlineData("a===b")]
    [InlineData("a in b")]
    [InlineData("a in (b")]
    [InlineData("=b")]
    [InlineData("a,")]
    [InlineData("a in ()")]
    [InlineData("Bad Key=x")]
    [InlineData("a=-bad-")]
    [InlineData("n>x")]
    public void Parse_Malformed_IsBadRequest(string selector)
    {
        var ex = Assert.Throws<StatusException>(() => LabelSelector.Parse(selector));
        Assert.Equal(400, ex.Code);
        Assert.StartsWith("unable to parse requirement: ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app=web,tier!=back")]
    [InlineData("app in (a,b),!x,y")]
    public void ToString_RoundTripsThroughParse(string selector)
    {
        var parsed = LabelSelector.Parse(selector);
        Assert.Equal(parsed.ToString(), LabelSelector.Parse(parsed.ToString()).ToString());
    }

    [Fact]
    public void FromLabelSelectorJson_MatchLabelsAndExpressions()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse("""{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["front","mid"]},{"key":"gone","operator":"DoesNotExist"}]}""")!.AsObject();
        var selector = LabelSelector.FromLabelSelectorJson(json);
        Assert.True(selector.Matches(Labels));
        Assert.Equal("app=web,tier in (front,mid),!gone", selector.ToString());
    }
}
