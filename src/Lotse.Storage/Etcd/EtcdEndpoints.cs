using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace Lotse.Storage.Etcd;

/// <summary>
/// The etcd members the store talks to: one gRPC channel per endpoint (h2c for http://, TLS with an
/// optional client certificate and a pinned CA for https://). Calls go to the current endpoint; on a
/// transport failure the next one is tried, so losing a member costs one retry, not an outage.
/// </summary>
internal sealed class EtcdEndpoints : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private int _current;

    public EtcdEndpoints(StoreOptions options)
    {
        Urls = options.Endpoint.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Urls.Count == 0)
        {
            throw new StoreException("--datastore-endpoint names no etcd endpoint");
        }

        var clientCertificates = LoadClientCertificate(options);
        var trustedCa = LoadCa(options.CaFile);
        _channels = [.. Urls.Select(url =>
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new StoreException($"invalid etcd endpoint \"{url}\": expected http(s)://host:port");
            }

            var handler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(3),
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            };
            if (uri.Scheme == "https")
            {
                handler.SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = clientCertificates,
                    RemoteCertificateValidationCallback = trustedCa is null ? null : (_, certificate, _, errors) => Trusted(certificate, trustedCa, errors),
                };
            }

            return GrpcChannel.ForAddress(uri, new GrpcChannelOptions
            {
                HttpHandler = handler,
                MaxReceiveMessageSize = 64 * 1024 * 1024,
                DisposeHttpClient = true,
                // A member that comes back is used again within about a second (the default backoff grows to minutes).
                InitialReconnectBackoff = TimeSpan.FromMilliseconds(100),
                MaxReconnectBackoff = TimeSpan.FromSeconds(1),
            });
        })];
    }

    public IReadOnlyList<string> Urls { get; }

    public int Count => _channels.Length;

    /// <summary>The endpoint in use and its channel.</summary>
    public (int Index, GrpcChannel Channel) Current
    {
        get
        {
            var index = Volatile.Read(ref _current);
            return (index, _channels[index]);
        }
    }

    /// <summary>Moves on from a failed endpoint (if it is still the current one).</summary>
    public void Failed(int index) => Interlocked.CompareExchange(ref _current, (index + 1) % _channels.Length, index);

    public static bool IsTransportFailure(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted
        || (ex.StatusCode == StatusCode.Internal && ex.Status.Detail.Contains("transport", StringComparison.OrdinalIgnoreCase))
        || (ex.StatusCode == StatusCode.Unknown && ex.Status.DebugException is HttpRequestException or IOException);

    private static X509CertificateCollection? LoadClientCertificate(StoreOptions options)
    {
        if (string.IsNullOrEmpty(options.CertFile) && string.IsNullOrEmpty(options.KeyFile))
        {
            return null;
        }

        if (string.IsNullOrEmpty(options.CertFile) || string.IsNullOrEmpty(options.KeyFile))
        {
            throw new StoreException("--datastore-certfile and --datastore-keyfile must be given together");
        }

        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
            // Export/import so the private key is usable by SslStream on every platform.
            return [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new StoreException($"cannot load the etcd client certificate {options.CertFile} / {options.KeyFile}: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection? LoadCa(string? caFile)
    {
        if (string.IsNullOrEmpty(caFile))
        {
            return null;
        }

        try
        {
            var collection = new X509Certificate2Collection();
            collection.ImportFromPemFile(caFile);
            return collection.Count > 0 ? collection : throw new StoreException($"--datastore-cafile {caFile} holds no certificate");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new StoreException($"cannot load the etcd CA {caFile}: {ex.Message}", ex);
        }
    }

    /// <summary>Trusts etcd's certificate only when it chains to the given CA (host name errors still fail).</summary>
    private static bool Trusted(X509Certificate? certificate, X509Certificate2Collection ca, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
