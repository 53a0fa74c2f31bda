using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Lotse.ApiServer.Security;

/// <summary>
/// The cluster's certificates under <c>&lt;data-dir&gt;/server/tls/</c>, as K3s keeps them: a server CA
/// that signs the API server's serving certificate, a client CA that signs client certificates
/// (the admin's, later the nodes'), ECDSA P-256 keys. Created on first start and reused after; the
/// serving certificate is re-issued when its names change or within 90 days of expiry.
/// </summary>
public sealed class ClusterPki
{
    private static readonly TimeSpan CaValidity = TimeSpan.FromDays(3650);
    private static readonly TimeSpan LeafValidity = TimeSpan.FromDays(365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(90);
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private readonly string _dir;
    private readonly TimeProvider _time;
    private readonly X509Certificate2 _clientCa;

    private ClusterPki(string dir, TimeProvider time, X509Certificate2 serverCa, X509Certificate2 clientCa, X509Certificate2 serving, (string, string) admin)
    {
        _dir = dir;
        _time = time;
        ServerCa = serverCa;
        _clientCa = clientCa;
        ServingCertificate = serving;
        AdminCredentials = admin;
    }

    public X509Certificate2 ServerCa { get; }

    /// <summary>The server CA as PEM: what kubeconfigs trust and what the join token pins.</summary>
    public string ServerCaPem => ServerCa.ExportCertificatePem() + "\n";

    /// <summary>The API server's certificate with its private key.</summary>
    public X509Certificate2 ServingCertificate { get; }

    /// <summary>The admin's client certificate and key (PEM): CN system:admin, O system:masters.</summary>
    public (string CertificatePem, string KeyPem) AdminCredentials { get; }

    public static ClusterPki LoadOrCreate(string tlsDir, PkiOptions options, TimeProvider time)
    {
        try
        {
            Directory.CreateDirectory(tlsDir);
            File.SetUnixFileMode(tlsDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot create the certificate folder {tlsDir}: {ex.Message}");
        }

        var now = time.GetUtcNow();
        var (serverCa, serverCaKey) = LoadOrCreateCa(tlsDir, "server-ca", now);
        var (clientCa, clientCaKey) = LoadOrCreateCa(tlsDir, "client-ca", now);
        using var disposeServerCaKey = serverCaKey;
        using var disposeClientCaKey = clientCaKey;
        var names = ServingNames(options);
        var serving = LoadOrIssue(tlsDir, "serving-kube-apiserver", now, serverCa, cert => SansOf(cert).SetEquals(names.Select(n => n.ToLowerInvariant())),
            () => Issue(serverCa, serverCaKey, "kube-apiserver", [], ServerAuth, names, now));
        var admin = LoadOrIssue(tlsDir, "client-admin", now, clientCa, _ => true,
            () => Issue(clientCa, clientCaKey, "system:admin", ["system:masters"], ClientAuth, [], now));
        admin.Dispose();
        return new ClusterPki(tlsDir, time, serverCa, clientCa, serving, (File.ReadAllText(Path.Combine(tlsDir, "client-admin.crt")), File.ReadAllText(Path.Combine(tlsDir, "client-admin.key"))));
    }

    /// <summary>
    /// Accepts a client certificate only when it chains to the client CA (not the server CA, not any
    /// system root), is within its validity, and is for client authentication. CN is the user, O the groups.
    /// </summary>
    public bool IsClientCertificateTrusted(X509Certificate2 certificate, out string user, out string[] groups)
    {
        user = string.Empty;
        groups = [];
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_clientCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuth));
        if (!chain.Build(certificate) || chain.ChainElements[^1].Certificate.Thumbprint != _clientCa.Thumbprint)
        {
            return false;
        }

        user = certificate.GetNameInfo(X509NameType.SimpleName, false);
        groups = [.. certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(rdn => rdn.GetSingleElementType().Value == "2.5.4.10")
            .Select(rdn => rdn.GetSingleElementValue() ?? string.Empty)];
        return user.Length > 0;
    }

    /// <summary>The client CA as PEM: node agents accept the API server's kubelet client certificate by it.</summary>
    public string ClientCaPem => _clientCa.ExportCertificatePem() + "\n";

    /// <summary>A serving certificate from the server CA for <paramref name="names"/> (a node agent's HTTPS port).</summary>
    public (string CertificatePem, string KeyPem) IssueServingCertificate(string commonName, IReadOnlyList<string> names, TimeSpan validity)
    {
        var (ca, caKey) = LoadOrCreateCa(_dir, "server-ca", _time.GetUtcNow());
        using var disposeKey = caKey;
        using var cert = Issue(ca, caKey, commonName, [], ServerAuth, names, _time.GetUtcNow(), validity);
        return (cert.ExportCertificatePem() + "\n", cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>A new client certificate from the client CA (node agents join with one).</summary>
    public (string CertificatePem, string KeyPem) IssueClientCertificate(string commonName, IEnumerable<string> organizations, TimeSpan validity)
    {
        var (ca, caKey) = LoadOrCreateCa(_dir, "client-ca", _time.GetUtcNow());
        using var disposeKey = caKey;
        using var cert = Issue(ca, caKey, commonName, [.. organizations], ClientAuth, [], _time.GetUtcNow(), validity);
        return (cert.ExportCertificatePem() + "\n", cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
    }

    private static (X509Certificate2 Cert, ECDsa Key) LoadOrCreateCa(string dir, string name, DateTimeOffset now)
    {
        var certPath = Path.Combine(dir, name + ".crt");
        var keyPath = Path.Combine(dir, name + ".key");
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            try
            {
                var key = ECDsa.Create();
                key.ImportFromPem(File.ReadAllText(keyPath));
                return (X509Certificate2.CreateFromPem(File.ReadAllText(certPath)), key);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw new StartupException($"the cluster CA {certPath} cannot be read ({ex.Message}); restore it or remove {dir} to start a new cluster");
            }
        }

        var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=lotse-{name}@{now.ToUnixTimeSeconds()}", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaValidity));
        Write(certPath, cert.ExportCertificatePem() + "\n");
        Write(keyPath, caKey.ExportPkcs8PrivateKeyPem() + "\n");
        return (X509Certificate2.CreateFromPem(cert.ExportCertificatePem()), caKey);
    }

    /// <summary>Reuses a leaf certificate unless it is near expiry, no longer fits, or another CA signed it.</summary>
    private static X509Certificate2 LoadOrIssue(string dir, string name, DateTimeOffset now, X509Certificate2 ca, Func<X509Certificate2, bool> fits, Func<X509Certificate2> issue)
    {
        var certPath = Path.Combine(dir, name + ".crt");
        var keyPath = Path.Combine(dir, name + ".key");
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            try
            {
                var existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
                if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore && existing.Issuer == ca.Subject && fits(existing))
                {
                    return existing;
                }
            }
            catch (CryptographicException)
            {
                // unreadable: issue a new one below
            }
        }

        using var cert = issue();
        Write(certPath, cert.ExportCertificatePem() + "\n");
        Write(keyPath, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        return X509Certificate2.CreateFromPemFile(certPath, keyPath);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, ECDsa caKey, string commonName, string[] organizations, string usage, IReadOnlyList<string> names, DateTimeOffset now, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new StringBuilder($"CN={Escape(commonName)}");
        foreach (var o in organizations)
        {
            subject.Append(", O=").Append(Escape(o));
        }

        var request = new CertificateRequest(subject.ToString(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (names.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var ip))
                {
                    san.AddIpAddress(ip);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }

            request.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), now.Add(validity ?? LeafValidity), serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static string Escape(string value) => value.Contains(',') || value.Contains('=') || value.Contains('+') ? $"\"{value}\"" : value;

    /// <summary>kube-apiserver's names: host, addresses, localhost, the kubernetes service names and its first IP, and extras.</summary>
    private static List<string> ServingNames(PkiOptions options)
    {
        var names = new List<string> { "localhost", "127.0.0.1", "::1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", $"kubernetes.default.svc.{options.ClusterDomain}", Dns.GetHostName() };
        names.Add(Allocation.ServiceAllocator.FirstAddressOf(options.ServiceCidr));
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up))
        {
            names.AddRange(nic.GetIPProperties().UnicastAddresses.Select(a => a.Address).Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal).Select(a => a.ToString()));
        }

        names.AddRange(options.TlsSans.Where(s => !string.IsNullOrWhiteSpace(s)));
        return [.. names.Select(n => IPAddress.TryParse(n, out var ip) ? ip.ToString() : n.ToLowerInvariant()).Distinct()];
    }

    private static HashSet<string> SansOf(X509Certificate2 cert)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var ext in cert.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            set.UnionWith(ext.EnumerateDnsNames());
            set.UnionWith(ext.EnumerateIPAddresses().Select(ip => ip.ToString()));
        }

        return set;
    }

    private static void Write(string path, string content)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }
}
