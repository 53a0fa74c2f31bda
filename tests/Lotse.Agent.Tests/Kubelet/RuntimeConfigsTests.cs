using k8s.Models;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet;

namespace Lotse.Agent.Tests.Kubelet;

public sealed class RuntimeConfigsTests
{
    private static V1Pod Pod(params V1Container[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Uid = "u-1", Labels = new Dictionary<string, string> { ["app"] = "web" } },
        Spec = new V1PodSpec { Containers = containers, NodeName = "n1", ServiceAccountName = "default" },
    };

    private static readonly Dictionary<string, string> Vars = new() { ["A"] = "1", ["B"] = "two" };

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("$(A)", "1")]
    [InlineData("x$(A)y$(B)z", "x1ytwoz")]
    [InlineData("$(MISSING)", "$(MISSING)")]
    [InlineData("$$(A)", "$(A)")]
    [InlineData("$$", "$")]
    [InlineData("$(A", "$(A")]
    [InlineData("cost: $5", "cost: $5")]
    [InlineData("end$", "end$")]
    public void Expand_FollowsKubernetesRules(string input, string expected) =>
        Assert.Equal(expected, RuntimeConfigs.Expand(input, Vars));

    [Fact]
    public void Environment_ResolvesSourcesInOrder_AndReportsWhatIsMissing()
    {
        var container = new V1Container
        {
            Name = "c",
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "cm" }, Prefix = "CM_" }],
            Env =
            [
                new V1EnvVar { Name = "NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
                new V1EnvVar { Name = "APP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels['app']" } } },
                new V1EnvVar { Name = "IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
                new V1EnvVar { Name = "GREETING", Value = "$(CM_HELLO) $(NAME)" },
                new V1EnvVar { Name = "PASSWORD", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "s", Key = "pw" } } },
                new V1EnvVar { Name = "GONE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "cm", Key = "absent" } } },
                new V1EnvVar { Name = "MAYBE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "cm", Key = "absent", Optional = true } } },
            ],
        };
        var configMap = new Dictionary<string, string> { ["HELLO"] = "hi" };
        var secret = new Dictionary<string, string> { ["pw"] = "s3cret" };
        var missing = new List<string>();
        var env = RuntimeConfigs.Environment(
            Pod(container), container, "192.0.2.1", "10.42.0.5",
            (_, name, key) => name == "cm" ? configMap.GetValueOrDefault(key) : null,
            (_, name, key) => name == "s" ? secret.GetValueOrDefault(key) : null,
            name => name == "cm" ? configMap : null,
            name => name == "s" ? secret : null,
            missing);

        Assert.Equal(["CM_HELLO", "NAME", "APP", "IP", "GREETING", "PASSWORD"], env.Select(e => e.Key));
        var values = env.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("web", values["NAME"]);
        Assert.Equal("web", values["APP"]);
        Assert.Equal("10.42.0.5", values["IP"]);
        Assert.Equal("hi web", values["GREETING"]);
        Assert.Equal("s3cret", values["PASSWORD"]);
        Assert.Equal(["couldn't find key absent in ConfigMap shop/cm"], missing);
    }

    [Fact]
    public void Container_MapsCommandResourcesAndSecurity()
    {
        var container = new V1Container
        {
            Name = "app",
            Image = "busybox:1",
            Command = ["sh", "-c", "echo $(WHO)"],
            Args = ["$(WHO)"],
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["memory"] = new("64Mi") },
                Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m"), ["memory"] = new("128Mi") },
            },
            SecurityContext = new V1SecurityContext { RunAsUser = 1000, ReadOnlyRootFilesystem = true, AllowPrivilegeEscalation = false, Capabilities = new V1Capabilities { Add = ["NET_ADMIN"], Drop = ["ALL"] } },
        };
        var pod = Pod(container);
        var config = RuntimeConfigs.Container(pod, container, 2, [new("WHO", "me")], "busybox:1");

        Assert.Equal(["sh", "-c", "echo me"], config.Command);
        Assert.Equal(["me"], config.Args);
        Assert.Equal("app/2.log", config.LogPath);
        Assert.Equal(2u, config.Metadata.Attempt);
        var resources = config.Linux.Resources;
        Assert.Equal(256, resources.CpuShares);
        Assert.Equal(50_000, resources.CpuQuota);
        Assert.Equal(100_000, resources.CpuPeriod);
        Assert.Equal(128 * 1024 * 1024, resources.MemoryLimitInBytes);
        var security = config.Linux.SecurityContext;
        Assert.Equal(1000, security.RunAsUser.Value);
        Assert.True(security.ReadonlyRootfs);
        Assert.True(security.NoNewPrivs);
        Assert.Equal(["CAP_NET_ADMIN"], security.Capabilities.AddCapabilities);
        Assert.Equal(["CAP_ALL"], security.Capabilities.DropCapabilities);
        Assert.Equal("app", config.Labels[RuntimeConfigs.ContainerNameLabel]);
        Assert.Equal("u-1", config.Labels[RuntimeConfigs.PodUidLabel]);
        Assert.Equal("Burstable", RuntimeConfigs.QosClass(pod));
    }

    [Fact]
    public void Sandbox_HasHostPortsNamespacesDnsAndTheQosCgroup()
    {
        var container = new V1Container { Name = "c", Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 8080 }, new V1ContainerPort { ContainerPort = 53, Protocol = "UDP" }] };
        var pod = Pod(container);
        var hostDns = new DNSConfig { Servers = { "192.0.2.53" }, Searches = { "corp.example" } };
        var config = RuntimeConfigs.Sandbox(pod, 1, "/logs", "cluster.local", hostDns);

        Assert.Equal("web", config.Hostname);
        Assert.Equal(1u, config.Metadata.Attempt);
        Assert.Equal("/logs/shop_web_u-1", config.LogDirectory);
        Assert.Equal("/kubepods/besteffort/podu-1", config.Linux.CgroupParent);
        var mapping = Assert.Single(config.PortMappings);
        Assert.Equal((80, 8080, Protocol.Tcp), (mapping.ContainerPort, mapping.HostPort, mapping.Protocol));
        Assert.Equal(NamespaceMode.Pod, config.Linux.SecurityContext.NamespaceOptions.Network);
        Assert.Equal(NamespaceMode.Container, config.Linux.SecurityContext.NamespaceOptions.Pid);
        Assert.Equal(["192.0.2.53"], config.DnsConfig.Servers);
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"], config.DnsConfig.Searches);
        Assert.Equal(["ndots:5"], config.DnsConfig.Options);
        Assert.Equal("web", config.Labels["app"]);

        pod.Spec.HostNetwork = true;
        pod.Spec.DnsPolicy = "Default";
        var host = RuntimeConfigs.Sandbox(pod, 0, "/logs", "cluster.local", hostDns);
        Assert.Equal(NamespaceMode.Node, host.Linux.SecurityContext.NamespaceOptions.Network);
        Assert.Equal(["corp.example"], host.DnsConfig.Searches);
    }

    [Fact]
    public void QosClass_GuaranteedWhenLimitsEqualRequests()
    {
        var limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), ["memory"] = new("1Gi") };
        var pod = Pod(new V1Container { Name = "c", Resources = new V1ResourceRequirements { Limits = limits } });
        Assert.Equal("Guaranteed", RuntimeConfigs.QosClass(pod));
        Assert.Equal("/kubepods/guaranteed/podu-1", RuntimeConfigs.CgroupParent(pod));
    }
}
