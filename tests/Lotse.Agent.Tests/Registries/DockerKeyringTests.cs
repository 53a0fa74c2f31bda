using System.Text;
using k8s.Models;
using Lotse.Agent.Registries;

namespace Lotse.Agent.Tests.Registries;

public sealed class DockerKeyringTests
{
    private static V1Secret ConfigJson(string name, string json) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Type = "kubernetes.io/dockerconfigjson",
        Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(json) },
    };

    private static V1Secret Cfg(string name, string json) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Type = "kubernetes.io/dockercfg",
        Data = new Dictionary<string, byte[]> { [".dockercfg"] = Encoding.UTF8.GetBytes(json) },
    };

    private static string Auths(params (string Location, string User)[] entries) =>
        "{\"auths\":{" + string.Join(",", entries.Select(e => $"\"{e.Location}\":{{\"username\":\"{e.User}\",\"password\":\"pw-{e.User}\"}}")) + "}}";

    private static string[] Users(DockerKeyring keyring, string image) => [.. keyring.Lookup(image).Select(c => c.Username)];

    [Theory]
    [InlineData("mirror.lotse.test", "mirror.lotse.test/busybox:1", true)]
    [InlineData("https://mirror.lotse.test", "mirror.lotse.test/busybox:1", true)]
    [InlineData("http://mirror.lotse.test/v2/", "mirror.lotse.test/busybox:1", true)]
    [InlineData("mirror.lotse.test:5000", "mirror.lotse.test/busybox:1", false)]
    [InlineData("mirror.lotse.test:5000", "mirror.lotse.test:5000/busybox:1", true)]
    [InlineData("quay.io/coreos", "quay.io/coreos/etcd:3", true)]
    [InlineData("quay.io/coreos", "quay.io/other/etcd:3", false)]
    [InlineData("*.example.com", "registry.example.com/app", true)]
    [InlineData("*.example.com", "example.com/app", false)]
    [InlineData("*.example.com", "a.b.example.com/app", false)]
    [InlineData("reg?.example.com", "reg1.example.com/app", false)] // "?" starts the URL query in Go too
    [InlineData("reg[0-9].example.com", "regx.example.com/app", false)]
    [InlineData("reg[0-9].example.com", "reg7.example.com/app", true)]
    [InlineData("r*g.example.com", "rusting.example.com/app", true)]
    [InlineData("docker.io", "busybox", true)]
    [InlineData("https://index.docker.io/v1/", "busybox", true)]
    [InlineData("index.docker.io", "docker.io/rancher/pause:3.6", true)]
    [InlineData("https://index.docker.io/v1/", "quay.io/app", false)]
    public void Lookup_MatchesAsTheKubelet(string location, string image, bool matches)
    {
        var keyring = DockerKeyring.FromSecrets([ConfigJson("s", Auths((location, "u")))]);
        Assert.Equal(matches, keyring.Lookup(image).Count == 1);
    }

    [Fact]
    public void Lookup_AllMatchingKeys_MostSpecificFirst_AcrossSecrets()
    {
        var keyring = DockerKeyring.FromSecrets([
            ConfigJson("a", Auths(("quay.io", "host"), ("quay.io/coreos", "org"))),
            Cfg("b", "{\"quay.io/coreos/etcd\":{\"username\":\"repo\",\"password\":\"x\"},\"quay.io\":{\"username\":\"host2\",\"password\":\"y\"}}"),
        ]);
        Assert.Equal(["repo", "org", "host", "host2"], Users(keyring, "quay.io/coreos/etcd:3"));
        Assert.Equal(["host", "host2"], Users(keyring, "quay.io/other"));
        Assert.Empty(keyring.Lookup("ghcr.io/app"));
    }

    [Fact]
    public void DockerHubCredentials_AreTheFallbackForDockerHubImagesOnly()
    {
        var keyring = DockerKeyring.FromSecrets([ConfigJson("hub", Auths(("https://index.docker.io/v1/", "hub"), ("docker.io/private", "private")))]);
        Assert.Equal(["private"], Users(keyring, "private/app"));
        Assert.Equal(["hub"], Users(keyring, "library/busybox"));
        Assert.Empty(keyring.Lookup("localhost:5000/app"));
    }

    [Fact]
    public void Entries_AuthWinsOverUsernameAndPassword_FieldsAreCaseInsensitive()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cr:et"));
        var keyring = DockerKeyring.FromSecrets([ConfigJson("s", $"{{\"auths\":{{\"a.example\":{{\"username\":\"ignored\",\"Auth\":\"{auth}\"}},\"b.example\":{{\"Username\":\"bob\",\"Password\":\"pw\",\"email\":\"e\"}}}}}}")]);
        Assert.Equal(("alice", "s3cr:et"), keyring.Lookup("a.example/app").Select(c => (c.Username, c.Password)).Single());
        Assert.Equal(("bob", "pw", "s"), keyring.Lookup("b.example/app").Select(c => (c.Username, c.Password, c.Source)).Single());
    }

    [Fact]
    public void FromSecrets_IgnoresOtherTypesAndKeys()
    {
        var opaque = new V1Secret { Metadata = new V1ObjectMeta { Name = "o" }, Type = "Opaque", Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(Auths(("a.example", "u"))) } };
        var wrongKey = new V1Secret { Metadata = new V1ObjectMeta { Name = "w" }, Type = "kubernetes.io/dockerconfigjson", Data = new Dictionary<string, byte[]> { [".dockercfg"] = Encoding.UTF8.GetBytes("{garbage") } };
        var empty = new V1Secret { Metadata = new V1ObjectMeta { Name = "e" }, Type = "kubernetes.io/dockerconfigjson" };
        Assert.True(DockerKeyring.FromSecrets([opaque, wrongKey, empty, ConfigJson("n", "{}"), ConfigJson("x", "{\"auths\":null}")]).IsEmpty);
    }

    [Theory]
    [InlineData("{garbage", "image pull secret \"bad\" has no valid .dockerconfigjson:")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{\"auths\":[]}", "\"auths\" is not an object")]
    [InlineData("{\"auths\":{\"a\":1}}", "the entry for \"a\" is not an object")]
    [InlineData("{\"auths\":{\"a\":{\"username\":1}}}", "\"username\" of \"a\" is not a string")]
    [InlineData("{\"auths\":{\"a\":{\"auth\":\"%%%\"}}}", "the auth of \"a\" is not base64")]
    [InlineData("{\"auths\":{\"a\":{\"auth\":\"bm9jb2xvbg==\"}}}", "the auth of \"a\" is not user:password")]
    public void FromSecrets_Garbage_IsOneClearLine(string json, string expected)
    {
        var error = Assert.Throws<FormatException>(() => DockerKeyring.FromSecrets([ConfigJson("bad", json)]));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("registry.example.com", "registry.example.com")]
    [InlineData("https://registry.example.com/", "registry.example.com")]
    [InlineData("https://index.docker.io/v1/", "index.docker.io")]
    [InlineData("https://registry.example.com/v2/team", "registry.example.com/team")]
    [InlineData("registry.example.com:5000/team/", "registry.example.com:5000/team/")]
    [InlineData("has space", null)]
    public void Key_DropsSchemeAndApiVersion(string location, string? key) => Assert.Equal(key, DockerKeyring.Key(location));
}
