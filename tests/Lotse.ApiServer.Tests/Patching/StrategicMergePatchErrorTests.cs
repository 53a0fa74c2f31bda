using Lotse.ApiServer.Patching;
using static Lotse.ApiServer.Tests.Patching.JsonAssert;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class StrategicMergePatchErrorTests
{
    private static readonly PatchSchema Pod = PatchSchema.For("", "Pod");

    private static PatchException Fails(string original, string patch) =>
        Assert.Throws<PatchException>(() => StrategicMergePatch.Apply(Object(original), Object(patch), Pod));

    [Theory]
    [InlineData("""{"spec":{"$patch":"frob"}}""", "unknown patch type: \"frob\" in map: {\"$patch\":\"frob\"}")]
    [InlineData("""{"spec":{"containers":[{"name":"a","$patch":42}]}}""", "unknown patch type: 42 in map: {\"name\":\"a\",\"$patch\":42}")]
    [InlineData("""{"spec":{"containers":[{"image":"x"}]}}""", "map: {\"image\":\"x\"} does not contain declared merge key: name")]
    [InlineData("""{"spec":{"containers":[{"$patch":"delete"}]}}""", "map: {\"$patch\":\"delete\"} does not contain declared merge key: name")]
    [InlineData("""{"spec":{"containers":[{"name":"a","$patch":"merge"}]}}""", "merging lists cannot yet be specified in the patch")]
    [InlineData("""{"spec":{"containers":[{"$patch":"replace"},{"image":"x"}]}}""", "map: {\"image\":\"x\"} does not contain declared merge key: name")]
    [InlineData("""{"spec":{"$retainKeys":"containers"}}""", "invalid patch format of retainKeys")]
    [InlineData("""{"spec":{"$setElementOrder":[]}}""", "invalid patch format of setElementOrder list")]
    [InlineData("""{"spec":{"$setElementOrderX/containers":[]}}""", "invalid patch format of setElementOrder list")]
    [InlineData("""{"spec":{"$setElementOrder/containers":{"name":"a"}}}""", "invalid patch format of setElementOrder list")]
    [InlineData("""{"spec":{"$setElementOrder/containers":[{"image":"a"}]}}""", "map: {\"image\":\"a\"} does not contain declared merge key: name")]
    [InlineData("""{"metadata":{"$deleteFromPrimitiveList":["a"]}}""", "invalid patch format of primitive list")]
    public void Apply_MalformedDirectives_AreBadRequests(string patch, string message)
    {
        var ex = Fails("""{"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"a"}]}}""", patch);
        Assert.Equal(message, ex.Message);
        Assert.Equal(PatchErrorKind.BadRequest, ex.Kind);
    }

    [Theory]
    [InlineData("""{"metadata":{"finalizers":["a"]}}""", """{"metadata":{"finalizers":[1]}}""", "list element types are not identical")]
    [InlineData("""{"metadata":{"finalizers":["a"]}}""", """{"metadata":{"finalizers":[["b"]]}}""", "lists of lists are not supported")]
    [InlineData("""{"spec":{"containers":[{"image":"x"}]}}""", """{"spec":{"containers":[{"name":"a"}]}}""", "does not contain declared merge key: name")]
    public void Apply_PatchThatDoesNotFitTheObject_IsUnprocessable(string original, string patch, string message)
    {
        var ex = Fails(original, patch);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Equal(422, ex.StatusCode);
    }
}
