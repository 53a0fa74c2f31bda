using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s;
using Lotse.ApiServer;
using Lotse.ApiServer.Authentication;
using Lotse.Storage;
using Lotse.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Benchmarks.Api;

/// <summary>The real API server in-process over SQLite on a free loopback port, for the benchmarks that drive it with the official client.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    public const string Token = "bench-token";
    private readonly string _dir;
    private readonly WebApplication _app;

    private BenchServer(string dir, IStore store, WebApplication app, X509Certificate2 certificate, int port)
    {
        _dir = dir;
        Store = store;
        _app = app;
        Certificate = certificate;
        Port = port;
    }

    public IStore Store { get; }

    public X509Certificate2 Certificate { get; }

    public int Port { get; }

    public static async Task<BenchServer> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("lotse-bench-").FullName;
        var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(dir, "state.db"), CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);
        var certificate = SelfSigned();
        var port = FreePort();
        var app = ApiServerHost.Build(
            new ApiServerOptions { BindAddress = "127.0.0.1", HttpsPort = port, AdvertiseAddress = "10.0.0.1", TlsDir = dir },
            store, certificate, _ => null, [t => t == Token ? new UserInfo("bench", ["system:masters", UserInfo.Authenticated]) : null], _ => { });
        await ApiServerHost.InitializeAsync(app, CancellationToken.None);
        await app.StartAsync();
        return new BenchServer(dir, store, app, certificate, port);
    }

    public Kubernetes Client() => new(new KubernetesClientConfiguration
    {
        Host = $"https://127.0.0.1:{Port}",
        AccessToken = Token,
        SslCaCerts = [X509CertificateLoader.LoadCertificate(Certificate.Export(X509ContentType.Cert))],
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Store.DisposeAsync();
        Certificate.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
