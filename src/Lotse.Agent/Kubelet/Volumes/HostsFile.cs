using System.Text;
using k8s.Models;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>The pod's <c>/etc/hosts</c> as the kubelet writes it (pods not on the host network).</summary>
internal static class HostsFile
{
    public static string Content(V1Pod pod, string podIp, string clusterDomain)
    {
        var text = new StringBuilder()
            .Append("# Kubernetes-managed hosts file.\n")
            .Append("127.0.0.1\tlocalhost\n")
            .Append("::1\tlocalhost ip6-localhost ip6-loopback\n")
            .Append("fe00::0\tip6-localnet\n")
            .Append("fe00::0\tip6-mcastprefix\n")
            .Append("fe00::1\tip6-allnodes\n")
            .Append("fe00::2\tip6-allrouters\n");
        if (podIp.Length > 0)
        {
            var hostname = pod.Spec.Hostname ?? pod.Metadata.Name;
            if (hostname.Length > 63)
            {
                hostname = hostname[..63].TrimEnd('-', '.');
            }

            text.Append(pod.Spec.Subdomain is { Length: > 0 } subdomain
                ? $"{podIp}\t{hostname}.{subdomain}.{pod.Metadata.NamespaceProperty}.svc.{clusterDomain}\t{hostname}\n"
                : $"{podIp}\t{hostname}\n");
        }

        if (pod.Spec.HostAliases is { Count: > 0 } aliases)
        {
            text.Append("\n# Entries added by HostAliases.\n");
            foreach (var alias in aliases)
            {
                text.Append(alias.Ip).Append('\t').Append(string.Join('\t', alias.Hostnames ?? [])).Append('\n');
            }
        }

        return text.ToString();
    }
}
