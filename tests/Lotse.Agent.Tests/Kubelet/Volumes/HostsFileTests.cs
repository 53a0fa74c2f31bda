using k8s.Models;
using Lotse.Agent.Kubelet.Volumes;

namespace Lotse.Agent.Tests.Kubelet.Volumes;

public sealed class HostsFileTests
{
    private const string Header = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";

    [Fact]
    public void Content_PlainPod_HasLocalhostLinesAndItsName()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop" }, Spec = new V1PodSpec() };
        Assert.Equal(Header + "10.42.0.5\tweb\n", HostsFile.Content(pod, "10.42.0.5", "cluster.local"));
    }

    [Fact]
    public void Content_HostnameSubdomainAndAliases()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-0", NamespaceProperty = "shop" },
            Spec = new V1PodSpec
            {
                Hostname = "db",
                Subdomain = "dbs",
                HostAliases = [new V1HostAlias { Ip = "10.1.2.3", Hostnames = ["foo.local", "bar.local"] }],
            },
        };
        Assert.Equal(
            Header + "10.42.0.7\tdb.dbs.shop.svc.cluster.local\tdb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n",
            HostsFile.Content(pod, "10.42.0.7", "cluster.local"));
    }
}
