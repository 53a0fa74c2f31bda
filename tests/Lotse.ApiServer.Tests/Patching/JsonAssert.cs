using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tests.Patching;

/// <summary>Structural JSON comparison (member order ignored, array order kept) with both documents in the failure message.</summary>
internal static class JsonAssert
{
    public static JsonObject Object(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonNode? Node(string json) => JsonNode.Parse(json);

    public static void Equal(string expected, JsonNode? actual) => Equal(JsonNode.Parse(expected), actual);

    public static void Equal(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString() ?? "null"}\n     got {actual?.ToJsonString() ?? "null"}");

    /// <summary>The names of the items of a list of maps, in order.</summary>
    public static string[] Names(JsonNode? list, string key = "name") =>
        [.. list!.AsArray().Select(item => item![key]!.ToString())];
}
