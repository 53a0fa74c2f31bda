using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using Lotse.ApiServer;
using Lotse.ApiServer.Security;

namespace Lotse.Server;

/// <summary>An official client for an in-process component, with a client certificate from the cluster CA naming it.</summary>
internal static class LoopbackClient
{
    /// <summary>kube's User-Agent for a component (<c>kubelet/v1.33.0+lotse (linux/amd64)</c>): its program name is the field manager of its writes.</summary>
    public static string UserAgent(string component) =>
        $"{component}/{VersionInfo.GitVersion} (linux/{(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64")})";

    public static Kubernetes Create(string server, ClusterPki pki, string user, IEnumerable<string> groups, string component)
    {
        var (certificate, key) = pki.IssueClientCertificate(user, groups, TimeSpan.FromDays(365));
        return new Kubernetes(new KubernetesClientConfiguration
        {
            Host = server,
            ClientCertificateData = Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate)),
            ClientCertificateKeyData = Convert.ToBase64String(Encoding.UTF8.GetBytes(key)),
            SslCaCerts = [X509Certificate2.CreateFromPem(pki.ServerCaPem)],
            UserAgent = UserAgent(component),
        });
    }
}
