using System.Text;
using System.Text.Json.Nodes;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Tests.WatchCache;

public sealed class CachedObjectTests
{
    [Theory]
    [InlineData("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"y"}},"data":{"k":"v"}}""")]
    [InlineData("""{"kind":"ConfigMap","data":{"metadata":{"nested":"not this one"}},"metadata":{}}""")]
    [InlineData("""{ "metadata" : { "name" : "spaced" } }""")]
    public void FromStored_SplicesTheResourceVersionIntoTopLevelMetadata(string stored)
    {
        var cached = CachedObject.FromStored("/registry/configmaps/default/a", Encoding.UTF8.GetBytes(stored), 42, 7);
        var parsed = JsonNode.Parse(cached.Json)!.AsObject();
        Assert.Equal("42", parsed["metadata"]!["resourceVersion"]!.GetValue<string>());
        parsed["metadata"]!.AsObject().Remove("resourceVersion");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored), parsed));
        Assert.Equal("42", cached.Object["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("default", cached.Namespace);
        Assert.Equal("a", cached.Name);
    }

    [Fact]
    public void FromStored_ValueThatAlreadyHasAResourceVersion_IsRewrittenNotDuplicated()
    {
        var cached = CachedObject.FromStored("/registry/namespaces/n", Encoding.UTF8.GetBytes("""{"metadata":{"name":"n","resourceVersion":"1"}}"""), 9, 9);
        Assert.Equal("""{"metadata":{"name":"n","resourceVersion":"9"}}""", Encoding.UTF8.GetString(cached.Json));
        Assert.Equal(string.Empty, cached.Namespace);
        Assert.Equal("n", cached.Name);
    }
}
