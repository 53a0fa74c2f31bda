using Lotse.ApiServer.Patching;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class PatchTypesTests
{
    [Theory]
    [InlineData("application/json-patch+json", PatchType.Json)]
    [InlineData("application/merge-patch+json", PatchType.Merge)]
    [InlineData("application/strategic-merge-patch+json", PatchType.StrategicMerge)]
    [InlineData("application/apply-patch+yaml", PatchType.Apply)]
    [InlineData("application/apply-patch+cbor", PatchType.ApplyCbor)]
    [InlineData("Application/Strategic-Merge-Patch+JSON; charset=utf-8", PatchType.StrategicMerge)]
    [InlineData(" application/merge-patch+json ;charset=UTF-8", PatchType.Merge)]
    public void FromContentType_PatchMediaTypes_AreRecognized(string contentType, PatchType expected) =>
        Assert.Equal(expected, PatchTypes.FromContentType(contentType));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("application/json")]
    [InlineData("application/yaml")]
    [InlineData("application/vnd.kubernetes.protobuf")]
    public void FromContentType_OtherMediaTypes_AreNotPatches(string? contentType) =>
        Assert.Null(PatchTypes.FromContentType(contentType));

    [Fact]
    public void ContentType_EveryPatchType_RoundTrips()
    {
        foreach (var type in Enum.GetValues<PatchType>())
        {
            Assert.Equal(type, PatchTypes.FromContentType(PatchTypes.ContentType(type)));
        }
    }
}
