using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Selectors;

namespace Lotse.ApiServer.Tests.Selectors;

public sealed class FieldSelectorTests
{
    private static string? Fields(string field) => field switch
    {
        "metadata.name" => "web",
        "status.phase" => "Running",
        "spec.nodeName" => "a=b,c",
        _ => null,
    };

    [Theory]
    [InlineData("metadata.name=web", true)]
    [InlineData("metadata.name==web", true)]
    [InlineData("metadata.name!=web", false)]
    [InlineData("status.phase!=Succeeded,status.phase!=Failed", true)]
    [InlineData(@"spec.nodeName=a\=b\,c", true)]
    [InlineData("spec.unknown=", true)]
    public void Parse_ThenMatch(string selector, bool matches) =>
        Assert.Equal(matches, FieldSelector.Parse(selector).Matches(Fields));

    [Fact]
    public void Fields_ListsEveryFieldOnce()
    {
        var selector = FieldSelector.Parse("involvedObject.name=x,involvedObject.uid=1,involvedObject.name!=y");
        Assert.Equal(["involvedObject.name", "involvedObject.uid"], selector.Fields);
    }

    [Fact]
    public void TryGetExactName_OnlyForASingleNameTerm()
    {
        Assert.True(FieldSelector.Parse("metadata.name=web").TryGetExactName(out var name));
        Assert.Equal("web", name);
        Assert.False(FieldSelector.Parse("metadata.name=web,status.phase=Running").TryGetExactName(out _));
    }

    [Theory]
    [InlineData("justtext")]
    [InlineData("=x")]
    [InlineData(@"a=b\q")]
    public void Parse_Malformed_IsBadRequest(string selector) =>
        Assert.Equal(400, Assert.Throws<StatusException>(() => FieldSelector.Parse(selector)).Code);
}
