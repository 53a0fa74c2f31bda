using Lotse.Agent.Registries;

namespace Lotse.Agent.Tests.Registries;

public sealed class RegistriesFileTests
{
    private const string Full = """
        mirrors:
          docker.io:
            endpoint:
              - "http://10.0.0.1:5000"
              - "https://mirror.example"
            rewrite:
              "^library/(.*)": "mirrored/$1"
          "*":
            endpoint: ["https://everything.example"]
        configs:
          "10.0.0.1:5000":
            auth:
              username: u
              password: p
            tls:
              ca_file: ca.pem
              cert_file: /etc/certs/client.pem
              key_file: /etc/certs/client.key
              insecure_skip_verify: true
          mirror.example:
            auth: dTpw
          token.example:
            auth:
              identitytoken: tok
          basic.example:
            auth: {auth: dTpw}
        """;

    [Fact]
    public void Parse_EveryForm()
    {
        var config = RegistriesFile.Parse(Full, "/etc/lotse");
        var hub = config.Mirrors["docker.io"];
        Assert.Equal(["http://10.0.0.1:5000", "https://mirror.example"], hub.Endpoints.Select(e => e.Url));
        var rule = Assert.Single(hub.Rewrites);
        Assert.Equal(("^library/(.*)", "mirrored/$1"), (rule.Pattern.ToString(), rule.Replacement));
        Assert.Equal("https://everything.example", Assert.Single(config.Mirrors["*"].Endpoints).Url);

        var local = config.Configs["10.0.0.1:5000"];
        Assert.Equal(new RegistriesConfig.Credentials("u", "p", null, null), local.Auth);
        Assert.Equal(new RegistriesConfig.Tls("/etc/lotse/ca.pem", "/etc/certs/client.pem", "/etc/certs/client.key", true), local.Tls);
        Assert.Equal(new RegistriesConfig.Credentials(null, null, "dTpw", null), config.Configs["mirror.example"].Auth);
        Assert.Equal(new RegistriesConfig.Credentials(null, null, null, "tok"), config.Configs["token.example"].Auth);
        Assert.Equal(new RegistriesConfig.Credentials(null, null, "dTpw", null), config.Configs["basic.example"].Auth);
        Assert.Null(config.Configs["mirror.example"].Tls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing yet\n")]
    [InlineData("mirrors:\nconfigs:\n")]
    public void Parse_Empty_ConfiguresNothing(string text) => Assert.True(RegistriesFile.Parse(text, "/").IsEmpty);

    [Fact]
    public void Parse_NullEntries_AreAllowed_AsK3sWildcardExampleHasThem()
    {
        var config = RegistriesFile.Parse("mirrors:\n  quay.io:\nconfigs:\n  \"docker.io\":\n  \"*\":\n    tls:\n      insecure_skip_verify: true\n", "/");
        Assert.Empty(config.Mirrors["quay.io"].Endpoints);
        Assert.Equal(new RegistriesConfig.HostConfig(null, null), config.Configs["docker.io"]);
        Assert.True(config.Configs["*"].Tls!.InsecureSkipVerify);
    }

    [Fact]
    public void Parse_UnknownKeys_AreWarnings()
    {
        var config = RegistriesFile.Parse("mirrors:\n  docker.io:\n    endpoints: [\"https://m.example\"]\nextra: 1\n", "/");
        Assert.Empty(config.Mirrors["docker.io"].Endpoints);
        Assert.Contains(config.Warnings, w => w.Contains("line 3", StringComparison.Ordinal) && w.Contains("mirrors.\"docker.io\".endpoints", StringComparison.Ordinal));
        Assert.Contains(config.Warnings, w => w.Contains("extra", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_DefaultEndpointAsMirror_IsDropped()
    {
        var config = RegistriesFile.Parse("mirrors:\n  registry.example.com:\n    endpoint: [\"https://registry.example.com\", \"https://registry.example.com:443\", \"http://m:5000\", \"http://m:5000/\"]\n", "/");
        Assert.Equal(["https://registry.example.com:443", "http://m:5000"], config.Mirrors["registry.example.com"].Endpoints.Select(e => e.Url));
        Assert.Contains(config.Warnings, w => w.Contains("default endpoint", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("mirrors: [a, b]\n", "line 1: mirrors must be a mapping")]
    [InlineData("- a\n", "line 1: the file must be a mapping")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: {a: b}\n", "line 3: mirrors.\"docker.io\".endpoint must be a list of URLs")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]\n", "line 3: mirrors.\"docker.io\".endpoint: \"ftp://x\" is not an http or https URL")]
    [InlineData("mirrors:\n  \"https://docker.io\":\n    endpoint: []\n", "line 2: mirrors: \"https://docker.io\" is not a registry name")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: [\"https://m\"]\n    rewrite:\n      \"(unclosed\": x\n", "line 5: mirrors.\"docker.io\".rewrite: \"(unclosed\" is not a regular expression")]
    [InlineData("configs:\n  m:\n    auth: \"not base64!\"\n", "line 3: configs.\"m\".auth must be base64 of user:password")]
    [InlineData("configs:\n  m:\n    auth: {auth: bm9jb2xvbg==}\n", "line 3: configs.\"m\".auth.auth must be base64 of user:password")]
    [InlineData("configs:\n  m:\n    auth: {password: p}\n", "line 3: configs.\"m\".auth has a password but no username")]
    [InlineData("configs:\n  m:\n    auth: {}\n", "line 3: configs.\"m\".auth needs username/password")]
    [InlineData("configs:\n  m:\n    tls: {insecure_skip_verify: maybe}\n", "line 3: configs.\"m\".tls.insecure_skip_verify must be true or false")]
    [InlineData("configs:\n  m:\n    tls: {key_file: /k}\n", "line 3: configs.\"m\".tls.key_file needs a cert_file")]
    [InlineData("configs:\n  m:\n    auth:\n      username: [a]\n", "line 4: configs.\"m\".auth.username must be a plain value")]
    [InlineData("mirrors:\n  docker.io:\n  endpoint: x\n   bad: indent\n", "not valid YAML (line 4)")]
    public void Parse_Malformed_IsOneLineWithTheLine(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => RegistriesFile.Parse(text, "/"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Load_MissingFile_ConfiguresNothing() =>
        Assert.True(RegistriesFile.Load(Path.Combine(Path.GetTempPath(), "lotse-no-such-dir", "registries.yaml")).IsEmpty);

    [Fact]
    public void Load_MalformedFile_NamesTheFlagAndTheFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "mirrors:\n  docker.io:\n    endpoint: {a: b}\n");
            var error = Assert.Throws<ArgumentException>(() => RegistriesFile.Load(file));
            Assert.StartsWith($"--private-registry {file}: line 3:", error.Message, StringComparison.Ordinal);
            File.WriteAllText(file, "mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:5000\"]\n");
            Assert.Equal(file, RegistriesFile.Load(file).Source);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Load_Directory_IsAnError() =>
        Assert.Contains("is a directory", Assert.Throws<ArgumentException>(() => RegistriesFile.Load(Path.GetTempPath())).Message, StringComparison.Ordinal);

    [Fact]
    public void Resolve_ReadsThePrivateRegistryFlag()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:5000\"]\n");
            var options = new AgentSettings { PrivateRegistry = file }.Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local");
            Assert.Single(options.Kubelet.Registries.Mirrors);
            File.WriteAllText(file, "mirrors: 1\n");
            Assert.Contains("--private-registry", Assert.Throws<ArgumentException>(() => new AgentSettings { PrivateRegistry = file }.Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local")).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
