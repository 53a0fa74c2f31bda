using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Lotse.ApiServer.Security;

namespace Lotse.ApiServer.Tests.Security;

public sealed class ClusterPkiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-pki-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ClusterPki Load(params string[] sans) => ClusterPki.LoadOrCreate(_dir, new PkiOptions { TlsSans = sans }, TimeProvider.System);

    [Fact]
    public void LoadOrCreate_ServingCertificate_HasKubernetesNames()
    {
        var pki = Load("lotse.example.com", "192.0.2.10");
        var san = pki.ServingCertificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        var dns = san.EnumerateDnsNames().ToList();
        var ips = san.EnumerateIPAddresses().Select(i => i.ToString()).ToList();
        Assert.Contains("kubernetes.default.svc.cluster.local", dns);
        Assert.Contains("localhost", dns);
        Assert.Contains("lotse.example.com", dns);
        Assert.Contains("127.0.0.1", ips);
        Assert.Contains("10.43.0.1", ips);
        Assert.Contains("192.0.2.10", ips);
        Assert.True(pki.ServingCertificate.HasPrivateKey);
        Assert.Equal(pki.ServerCa.Subject, pki.ServingCertificate.Issuer);
    }

    [Fact]
    public void LoadOrCreate_Restart_ReusesEverything_NewSanReissuesOnlyServing()
    {
        var first = Load();
        var second = Load();
        Assert.Equal(first.ServerCa.Thumbprint, second.ServerCa.Thumbprint);
        Assert.Equal(first.ServingCertificate.Thumbprint, second.ServingCertificate.Thumbprint);
        Assert.Equal(first.AdminCredentials, second.AdminCredentials);
        var third = Load("new.example.com");
        Assert.Equal(first.ServerCa.Thumbprint, third.ServerCa.Thumbprint);
        Assert.NotEqual(first.ServingCertificate.Thumbprint, third.ServingCertificate.Thumbprint);
        Assert.Equal(first.AdminCredentials, third.AdminCredentials);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "server-ca.key")));
    }

    [Fact]
    public void IsClientCertificateTrusted_AdminYes_ForeignAndServingNo()
    {
        var pki = Load();
        var (certPem, keyPem) = pki.AdminCredentials;
        using var admin = X509Certificate2.CreateFromPem(certPem, keyPem);
        Assert.True(pki.IsClientCertificateTrusted(admin, out var user, out var groups));
        Assert.Equal("system:admin", user);
        Assert.Equal(["system:masters"], groups);

        Assert.False(pki.IsClientCertificateTrusted(pki.ServingCertificate, out _, out _));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=system:admin, O=system:masters", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var foreign = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        Assert.False(pki.IsClientCertificateTrusted(foreign, out _, out _));
    }

    [Fact]
    public void IssueClientCertificate_IsTrustedWithItsGroups()
    {
        var pki = Load();
        var (certPem, keyPem) = pki.IssueClientCertificate("system:node:worker1", ["system:nodes"], TimeSpan.FromDays(1));
        using var node = X509Certificate2.CreateFromPem(certPem, keyPem);
        Assert.True(pki.IsClientCertificateTrusted(node, out var user, out var groups));
        Assert.Equal("system:node:worker1", user);
        Assert.Equal(["system:nodes"], groups);
    }

    [Fact]
    public void Kubeconfig_LoadsWithTheOfficialClient()
    {
        var pki = Load();
        var (certPem, keyPem) = pki.AdminCredentials;
        var path = Path.Combine(_dir, "kube", "config.yaml");
        Kubeconfig.Write(path, Kubeconfig.Render("https://127.0.0.1:6443", pki.ServerCaPem, certPem, keyPem), Convert.ToInt32("600", 8));
        var config = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
        Assert.Equal("https://127.0.0.1:6443", config.Host);
        Assert.NotNull(config.ClientCertificateData);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        _ = IPAddress.Loopback;
    }

    [Fact]
    public void JoinToken_PinsTheCaAndIsReused()
    {
        var pki = Load();
        var file = Path.Combine(_dir, "token");
        var token = JoinToken.LoadOrCreate(file, null, pki.ServerCaPem);
        Assert.Matches("^K10[0-9a-f]{64}::server:[0-9a-f]{32}$", token);
        Assert.Equal(token, JoinToken.LoadOrCreate(file, null, pki.ServerCaPem));
        var parsed = JoinToken.Parse(token);
        Assert.True(parsed.VerifyCa(pki.ServerCaPem));
        Assert.False(parsed.VerifyCa(pki.ServerCaPem.Replace("A", "B", StringComparison.Ordinal)));
        Assert.True(parsed.SecretMatches(token));
        Assert.True(parsed.SecretMatches(parsed.Secret));
        Assert.False(parsed.SecretMatches("wrong"));
        Assert.Equal("my-secret", JoinToken.Parse(JoinToken.LoadOrCreate(Path.Combine(_dir, "t2"), "my-secret", pki.ServerCaPem)).Secret);
    }
}
