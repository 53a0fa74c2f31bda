using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using Lotse.ApiServer;
using Lotse.ApiServer.Security;

namespace Lotse.Server;

/// <summary>An official client for an in-process component, with a client certificate from the cluster CA naming it.</summary>
internal static class LoopbackClient
{
    public static Kubernetes Create(string server, ClusterPki pki, string user, IEnumerable<string> groups, string component)
    {
        var (certificate, key) = pki.IssueClientCertificate(user, groups, TimeSpan.FromDays(365));
        return new Kubernetes(new KubernetesClientConfiguration
        {
            Host = server,
            ClientCertificateData = Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate)),
            ClientCertificateKeyData = Convert.ToBase64String(Encoding.UTF8.GetBytes(key)),
            SslCaCerts = [X509Certificate2.CreateFromPem(pki.ServerCaPem)],
            UserAgent = VersionInfo.UserAgent(component),
        });
    }
}
