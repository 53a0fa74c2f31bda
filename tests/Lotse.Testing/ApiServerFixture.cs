using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Lotse.ApiServer;
using Lotse.ApiServer.Authentication;
using Lotse.Storage;
using Lotse.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lotse.Testing;

/// <summary>
/// The real API server in-process, over a real SQLite store in a temporary folder, on a free loopback
/// port with a throw-away serving certificate. Clients authenticate with the bearer token "admin-token".
/// </summary>
public class ApiServerFixture : IAsyncLifetime
{
    public const string AdminToken = "admin-token";
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-api-").FullName;
    private readonly X509Certificate2 _serving = SelfSigned();
    private WebApplication? _app;

    public IStore Store { get; private set; } = null!;

    public int Port { get; private set; }

    public Uri BaseAddress => new($"https://127.0.0.1:{Port}");

    public WebApplication App => _app!;

    /// <summary>Whether pods go through the ServiceAccount admission (off unless a test sets it before start).</summary>
    public bool ServiceAccountAdmission { get; init; }

    public async Task InitializeAsync()
    {
        Store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(_dir, "state.db"), CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);
        Port = FreePort();
        var options = new ApiServerOptions
        {
            BindAddress = "127.0.0.1",
            HttpsPort = Port,
            AdvertiseAddress = "10.0.0.1",
            TlsDir = _dir,
            // Without a controller-manager no namespace gets its default ServiceAccount, so pods would be
            // refused as by kube-apiserver; tests of that admission turn it back on.
            DisabledAdmissionPlugins = ServiceAccountAdmission ? new HashSet<string>() : new HashSet<string> { Lotse.ApiServer.Admission.ServiceAccountAdmission.PluginName },
        };
        _app = ApiServerHost.Build(options, Store, _serving, _ => null,
            [t => t == AdminToken ? new UserInfo("admin", ["system:masters", UserInfo.Authenticated]) : null],
            _ => { });
        await ApiServerHost.InitializeAsync(_app, CancellationToken.None);
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public HttpClient Client(string? token = AdminToken, bool decompress = true)
    {
        var handler = new SocketsHttpHandler
        {
            // Trust exactly the certificate this fixture gave the server.
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == _serving.GetCertHashString() },
            AutomaticDecompression = decompress ? DecompressionMethods.GZip : DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>The official client, as controllers, the scheduler and agents use it.</summary>
    public Kubernetes Kubernetes(string token = AdminToken) => new(new KubernetesClientConfiguration
    {
        Host = BaseAddress.ToString(),
        AccessToken = token,
        SslCaCerts = [X509CertificateLoader.LoadCertificate(_serving.Export(X509ContentType.Cert))],
    });

    public static StringContent Json(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject ?? throw new InvalidOperationException("not a JSON object");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
