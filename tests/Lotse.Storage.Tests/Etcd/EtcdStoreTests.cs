using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Lotse.Storage.Etcd;
using Lotse.Storage.Tests.Contract;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Storage.Tests.Etcd;

/// <summary>What only the etcd backend has: endpoints that fail, restarts, TLS, leases.</summary>
public sealed class EtcdStoreTests
{
    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    [EtcdFact]
    public async Task Connect_Unreachable_FailsFastWithOneLine()
    {
        var port = EtcdFixture.FreePort();
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() =>
            EtcdStore.ConnectAsync(new StoreOptions { Endpoint = $"http://127.0.0.1:{port}" }, NullLoggerFactory.Instance));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [EtcdFact]
    public async Task Calls_DeadFirstEndpoint_FailOverToTheLiveOne()
    {
        await using var etcd = new EtcdFixture();
        await etcd.StartAsync();
        var dead = $"http://127.0.0.1:{EtcdFixture.FreePort()}";
        await using var store = await etcd.ConnectAsync(new StoreOptions { Endpoint = $"{dead},{etcd.Endpoint}" });
        var created = await store.CreateAsync("/registry/failover/a", V("1"));
        Assert.Equal(WriteStatus.Ok, created.Status);
        Assert.Equal("1", Encoding.UTF8.GetString((await store.GetAsync("/registry/failover/a"))!.Value));
    }

    [EtcdFact]
    public async Task Watch_EtcdRestarts_ResumesWithoutGap()
    {
        await using var etcd = new EtcdFixture();
        await etcd.StartAsync();
        await using var store = await etcd.ConnectAsync();
        var start = await store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(store, "/registry/restart/", start);
        await store.CreateAsync("/registry/restart/before", V("1"));
        Assert.Single(await watch.WaitForAsync(1));

        await etcd.KillAsync();
        await etcd.StartAsync();
        await store.CreateAsync("/registry/restart/after", V("2"));
        var events = await watch.WaitForAsync(2, TimeSpan.FromSeconds(40));
        Assert.Equal(["/registry/restart/before", "/registry/restart/after"], events.Select(e => e.Kv.Key));
    }

    [EtcdFact]
    public async Task Ttl_KeyExpires_AndTheDeleteIsWatched()
    {
        await using var etcd = new EtcdFixture();
        await etcd.StartAsync();
        await using var store = await etcd.ConnectAsync();
        var start = await store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(store, "/registry/ttl/", start);
        await store.CreateAsync("/registry/ttl/k", V("x"), ttlSeconds: 2);
        var events = await watch.WaitForAsync(2, TimeSpan.FromSeconds(20));
        Assert.Equal(WatchEventType.Delete, events[^1].Type);
        Assert.Null(await store.GetAsync("/registry/ttl/k"));
    }

    [EtcdFact]
    public async Task Tls_ClientCertificateRequired_ConnectsOnlyWithIt()
    {
        var dir = Directory.CreateTempSubdirectory("lotse-etcd-tls-").FullName;
        try
        {
            var (ca, caKey) = Pki.CreateCa();
            Pki.Write(dir, "ca", ca, null);
            Pki.Write(dir, "server", Pki.Issue(ca, caKey, "etcd", server: true), null);
            Pki.Write(dir, "client", Pki.Issue(ca, caKey, "lotse", server: false), null);
            await using var etcd = new EtcdFixture(
                ["--cert-file", Path.Combine(dir, "server.crt"), "--key-file", Path.Combine(dir, "server.key"), "--client-cert-auth", "--trusted-ca-file", Path.Combine(dir, "ca.crt")],
                "https");
            await etcd.StartAsync();
            var options = new StoreOptions
            {
                CaFile = Path.Combine(dir, "ca.crt"),
                CertFile = Path.Combine(dir, "client.crt"),
                KeyFile = Path.Combine(dir, "client.key"),
            };
            await using (var store = await etcd.ConnectAsync(options))
            {
                Assert.Equal(WriteStatus.Ok, (await store.CreateAsync("/registry/tls/a", V("1"))).Status);
            }

            await Assert.ThrowsAsync<StoreUnavailableException>(() => etcd.ConnectAsync(options with { CertFile = null, KeyFile = null }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A throw-away CA and leaf certificates for the TLS test.</summary>
    private static class Pki
    {
        public static (X509Certificate2 Cert, ECDsa Key) CreateCa()
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=test-ca", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)), key);
        }

        public static X509Certificate2 Issue(X509Certificate2 ca, ECDsa caKey, string name, bool server)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            if (server)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(IPAddress.Loopback);
                request.CertificateExtensions.Add(san.Build());
            }

            using var signed = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
            return signed.CopyWithPrivateKey(key);
        }

        public static void Write(string dir, string name, X509Certificate2 cert, ECDsa? unused)
        {
            _ = unused;
            File.WriteAllText(Path.Combine(dir, name + ".crt"), cert.ExportCertificatePem());
            if (cert.GetECDsaPrivateKey() is { } key)
            {
                File.WriteAllText(Path.Combine(dir, name + ".key"), key.ExportPkcs8PrivateKeyPem());
            }
        }
    }
}
