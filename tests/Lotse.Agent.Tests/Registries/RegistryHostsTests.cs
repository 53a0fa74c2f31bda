using Lotse.Agent.Containerd;
using Lotse.Agent.Registries;

namespace Lotse.Agent.Tests.Registries;

public sealed class RegistryHostsTests
{
    private const string Yaml = """
        mirrors:
          docker.io:
            endpoint: ["http://10.0.0.1:5000", "https://harbor.example/v2/proxy"]
          mirror.lotse.test:
            endpoint: ["http://127.0.0.1:5000"]
          "*":
            endpoint: ["https://everything.example"]
          empty.example:
        configs:
          "10.0.0.1:5000":
            auth: {username: u, password: "p\"w"}
            tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /c.key}
          "harbor.example":
            tls: {insecure_skip_verify: true}
          "direct.example:8443":
            tls: {ca_file: /direct-ca.pem}
          docker.io:
            auth: {auth: dTpw}
          "*":
            tls: {insecure_skip_verify: true}
        """;

    [Fact]
    public void Render_OneFilePerMirror_WithTheDefaultEndpointAsServer()
    {
        var files = RegistryHosts.Render(RegistriesFile.Parse(Yaml, "/"));
        // A TLS-only entry is a registry of its own too (pulled directly), as in K3s.
        Assert.Equal(["10.0.0.1:5000", "_default", "direct.example:8443", "docker.io", "harbor.example", "mirror.lotse.test"], files.Keys);
        Assert.Equal($$"""
            {{RegistryHosts.Header}}
            server = "https://registry-1.docker.io"

            [host."http://10.0.0.1:5000"]
              capabilities = ["pull", "resolve"]
              ca = "/ca.pem"
              client = [["/c.pem", "/c.key"]]

            [host."https://harbor.example/v2/proxy"]
              capabilities = ["pull", "resolve"]
              skip_verify = true
              override_path = true

            """, files["docker.io"]);
        Assert.Equal($$"""
            {{RegistryHosts.Header}}
            server = "https://mirror.lotse.test"

            [host."http://127.0.0.1:5000"]
              capabilities = ["pull", "resolve"]

            """, files["mirror.lotse.test"]);
        Assert.Equal($$"""
            {{RegistryHosts.Header}}
            skip_verify = true

            [host."https://everything.example"]
              capabilities = ["pull", "resolve"]

            """, files["_default"]);
        Assert.Equal($$"""
            {{RegistryHosts.Header}}
            server = "https://direct.example:8443"
            ca = "/direct-ca.pem"

            """, files["direct.example:8443"]);
    }

    [Fact]
    public void Write_ReplacesItsOwnFiles_RemovesStaleOnes_LeavesForeignOnes()
    {
        var dir = Directory.CreateTempSubdirectory("lotse-certs-").FullName;
        try
        {
            RegistryHosts.Write(dir, RegistriesFile.Parse("mirrors:\n  old.example:\n    endpoint: [\"http://127.0.0.1:5000\"]\n", "/"));
            Assert.True(File.Exists(Path.Combine(dir, "old.example", "hosts.toml")));
            Directory.CreateDirectory(Path.Combine(dir, "own.example"));
            File.WriteAllText(Path.Combine(dir, "own.example", "hosts.toml"), "server = \"https://own.example\"\n");

            RegistryHosts.Write(dir, RegistriesFile.Parse("mirrors:\n  new.example:\n    endpoint: [\"http://127.0.0.1:5000\"]\n", "/"));
            Assert.False(Directory.Exists(Path.Combine(dir, "old.example")));
            Assert.True(File.Exists(Path.Combine(dir, "new.example", "hosts.toml")));
            Assert.Equal("server = \"https://own.example\"\n", File.ReadAllText(Path.Combine(dir, "own.example", "hosts.toml")));

            RegistryHosts.Write(dir, RegistriesConfig.Empty);
            Assert.Equal(["own.example"], Directory.EnumerateDirectories(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ContainerdConfig_CarriesCredentials_NeverTlsOrMirrors()
    {
        var config = new ContainerdConfig("/var/lib/lotse/agent/containerd", "lotse.io/pause:catatonit", "/cni") { Registries = RegistriesFile.Parse(Yaml, "/") };
        var text = config.Render();
        Assert.Contains("""
                [plugins."io.containerd.grpc.v1.cri".registry]
                  config_path = "/var/lib/lotse/agent/containerd/certs.d"
                  [plugins."io.containerd.grpc.v1.cri".registry.configs."10.0.0.1:5000".auth]
                    username = "u"
                    password = "p\"w"
                  [plugins."io.containerd.grpc.v1.cri".registry.configs."docker.io".auth]
                    auth = "dTpw"
                  [plugins."io.containerd.grpc.v1.cri".registry.configs."registry-1.docker.io".auth]
                    auth = "dTpw"
            """, text, StringComparison.Ordinal);
        Assert.DoesNotContain(".tls", text, StringComparison.Ordinal);
        Assert.DoesNotContain("registry.mirrors", text, StringComparison.Ordinal);
        Assert.DoesNotContain("registry.configs", new ContainerdConfig("/c", "p", "/cni").Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void ContainerdConfig_WildcardCredentials_GoToEveryHostTheFileNames()
    {
        var config = RegistriesFile.Parse("mirrors:\n  mirror.lotse.test:\n    endpoint: [\"http://127.0.0.1:5000\"]\nconfigs:\n  \"*\":\n    auth: {username: any, password: x}\n  quay.io:\n    auth: {username: q, password: y}\n", "/");
        Assert.Contains(config.Warnings, w => w.Contains("configs.\"*\".auth", StringComparison.Ordinal));
        Assert.Equal(
            [("127.0.0.1:5000", "any"), ("mirror.lotse.test", "any"), ("quay.io", "q")],
            config.CredentialHosts().Select(h => (h.Host, h.Auth.Username)));
    }

    [Fact]
    public void ContainerdConfig_Write_ReportsAChange_AndKeepsTheFilePrivate()
    {
        var dir = Directory.CreateTempSubdirectory("lotse-containerd-").FullName;
        try
        {
            var config = new ContainerdConfig(dir, "p", Path.Combine(dir, "cni"));
            Assert.True(config.Write());
            Assert.False(config.Write());
            var withAuth = config with { Registries = RegistriesFile.Parse("configs:\n  m.example:\n    auth: {username: u, password: p}\n", "/") };
            Assert.True(withAuth.Write());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config.ConfigFile));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
