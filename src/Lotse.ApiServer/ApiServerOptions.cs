namespace Lotse.ApiServer;

/// <summary>The API server's flags (K3s names), resolved.</summary>
public sealed record ApiServerOptions
{
    public string BindAddress { get; init; } = "0.0.0.0";

    public int HttpsPort { get; init; } = 6443;

    /// <summary>The address clients are told to use (kubeconfig, discovery); default 127.0.0.1.</summary>
    public string AdvertiseAddress { get; init; } = "127.0.0.1";

    public required string TlsDir { get; init; }

    public IReadOnlyList<string> TlsSans { get; init; } = [];

    public string ServiceCidr { get; init; } = "10.43.0.0/16";

    public string ClusterCidr { get; init; } = "10.42.0.0/16";

    public string ClusterDomain { get; init; } = "cluster.local";

    public string? TokenAuthFile { get; init; }

    public bool AnonymousAuth { get; init; }

    /// <summary>The API server's client certificate (with key) towards node agents; none = logs are unavailable.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? KubeletClientCertificate { get; init; }

    /// <summary>The CA node agents' serving certificates chain to (the server CA).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? KubeletCa { get; init; }

    /// <summary>The NodePort range kubernetes uses by default.</summary>
    public (int First, int Last) NodePortRange { get; init; } = (30000, 32767);

    /// <summary>Admission plugins turned off (kube-apiserver's <c>--disable-admission-plugins</c>), e.g. <c>ServiceAccount</c>.</summary>
    public IReadOnlySet<string> DisabledAdmissionPlugins { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}
