using Lotse.Agent.Registries;

namespace Lotse.Agent.Tests.Registries;

public sealed class RewriteTests
{
    private static RegistriesConfig Config(string yaml) => RegistriesFile.Parse(yaml, "/");

    [Theory]
    [InlineData("rancher/mirrored-pause:3.6", "docker.io/mirrorproject/rancher-images/mirrored-pause:3.6")]
    [InlineData("docker.io/rancher/coredns@sha256:abc", "docker.io/mirrorproject/rancher-images/coredns@sha256:abc")]
    [InlineData("busybox:1", null)]
    [InlineData("quay.io/rancher/x:1", null)]
    public void Rewrite_MatchesTheRepositoryPathOnly(string image, string? expected)
    {
        var config = Config("mirrors:\n  docker.io:\n    endpoint: [\"https://registry.example.com:5000\"]\n    rewrite:\n      \"^rancher/(.*)\": \"mirrorproject/rancher-images/$1\"\n");
        Assert.Equal(expected, config.Rewrite(image));
    }

    [Fact]
    public void Rewrite_FirstMatchingRuleWins_AndTheWildcardMirrorApplies()
    {
        var config = Config("mirrors:\n  \"*\":\n    endpoint: [\"http://127.0.0.1:5000\"]\n    rewrite:\n      \"^team/(.*)\": \"first/$1\"\n      \"^(.*)$\": \"all/$1\"\n");
        Assert.Equal("mirror.lotse.test/first/app:1", config.Rewrite("mirror.lotse.test/team/app:1"));
        Assert.Equal("quay.io/all/other/app", config.Rewrite("quay.io/other/app"));
    }

    [Fact]
    public void Rewrite_NotWithoutMirrorEndpoints_NorToAnInvalidName_NorWhenItsOwnHostsFileHidesTheWildcard()
    {
        Assert.Null(Config("mirrors:\n  docker.io:\n    rewrite:\n      \"^(.*)$\": \"x/$1\"\n").Rewrite("busybox"));
        Assert.Null(Config("mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:5000\"]\n    rewrite:\n      \"^library/(.*)$\": \"UPPER/$1\"\n").Rewrite("busybox"));
        var hidden = Config("mirrors:\n  \"*\":\n    endpoint: [\"http://127.0.0.1:5000\"]\n    rewrite:\n      \"^(.*)$\": \"all/$1\"\nconfigs:\n  quay.io:\n    tls: {insecure_skip_verify: true}\n");
        Assert.Null(hidden.Rewrite("quay.io/app"));
        Assert.Equal("ghcr.io/all/app", hidden.Rewrite("ghcr.io/app"));
    }
}
