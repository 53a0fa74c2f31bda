using Lotse.Agent.Registries;

namespace Lotse.Agent.Tests.Registries;

public sealed class RegistryEndpointTests
{
    [Theory]
    [InlineData("http://10.0.0.1:5000", "http://10.0.0.1:5000", false)]
    [InlineData("https://mirror.example/v2", "https://mirror.example", false)]
    [InlineData("https://mirror.example/v2/", "https://mirror.example", false)]
    [InlineData("mirror.example:5000", "https://mirror.example:5000", false)]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000", false)]
    [InlineData("localhost:443", "https://localhost:443", false)]
    [InlineData("https://docker.io", "https://registry-1.docker.io", false)]
    [InlineData("https://harbor.example/v2/proxy-docker", "https://harbor.example/v2/proxy-docker", true)]
    public void Parse_NormalizesAsK3s(string text, string url, bool overridePath)
    {
        var endpoint = RegistryEndpoint.Parse(text);
        Assert.Equal((url, overridePath), (endpoint.Url, endpoint.OverridePath));
    }

    [Theory]
    [InlineData("ftp://mirror.example")]
    [InlineData("https://")]
    [InlineData("https://user@mirror.example")]
    [InlineData("https://mirror.example/v2?x=1")]
    public void Parse_NotARegistryUrl_Throws(string text) => Assert.Throws<FormatException>(() => RegistryEndpoint.Parse(text));

    [Theory]
    [InlineData("docker.io", "https://registry-1.docker.io")]
    [InlineData("quay.io", "https://quay.io")]
    [InlineData("registry.example.com:5000", "https://registry.example.com:5000")]
    [InlineData("localhost:5000", "http://localhost:5000")]
    public void DefaultFor_IsContainerdsFallback(string registry, string url) => Assert.Equal(url, RegistryEndpoint.DefaultFor(registry).Url);
}
