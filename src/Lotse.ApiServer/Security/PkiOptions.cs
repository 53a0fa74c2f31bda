namespace Lotse.ApiServer.Security;

public sealed record PkiOptions
{
    public string ClusterDomain { get; init; } = "cluster.local";

    public string ServiceCidr { get; init; } = "10.43.0.0/16";

    /// <summary>Extra names and addresses for the serving certificate (<c>--tls-san</c>, the advertise address).</summary>
    public IReadOnlyList<string> TlsSans { get; init; } = [];
}
