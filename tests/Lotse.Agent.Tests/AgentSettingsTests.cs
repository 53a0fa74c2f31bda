namespace Lotse.Agent.Tests;

public sealed class AgentSettingsTests
{
    [Theory]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated", "gpu", "NoSchedule")]
    [InlineData("maintenance:NoExecute", "maintenance", null, "NoExecute")]
    [InlineData("a=b=c:PreferNoSchedule", "a", "b=c", "PreferNoSchedule")]
    public void Taints_ParseLikeKubectl(string text, string key, string? value, string effect)
    {
        var taint = AgentSettings.ParseTaint(text);
        Assert.Equal((key, value, effect), (taint.Key, taint.Value, taint.Effect));
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("k=v:Sometimes")]
    public void BadTaint_NamesTheFlag(string text) =>
        Assert.Contains("--node-taint", Assert.Throws<ArgumentException>(() => AgentSettings.ParseTaint(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void Resolve_PodManifestPath_IsAbsolute_AndDefaultsUnderTheAgentDir()
    {
        Assert.Equal("/data/agent/pod-manifests", new AgentSettings().Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local").Kubelet.PodManifestPath);
        Assert.Equal("/etc/lotse/manifests", new AgentSettings { PodManifestPath = "/etc/lotse/manifests/" }.Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local").Kubelet.PodManifestPath?.TrimEnd('/'));
        Assert.True(Path.IsPathRooted(new AgentSettings { PodManifestPath = "m" }.Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local").Kubelet.PodManifestPath));
    }

    [Fact]
    public void Resolve_AppliesDefaultsAndLabels()
    {
        var options = new AgentSettings { NodeName = "n1", NodeLabels = ["zone=a"], NodeTaints = ["k=v:NoSchedule"] }.Resolve("/data", "192.0.2.7", controlPlane: true, "cluster.local");
        Assert.Equal("n1", options.Kubelet.NodeName);
        Assert.Equal("192.0.2.7", options.Kubelet.NodeIp);
        Assert.Equal("/data/agent", options.Kubelet.AgentDir);
        Assert.Equal("a", options.Kubelet.Labels["zone"]);
        Assert.Single(options.Kubelet.Taints);
        Assert.Throws<ArgumentException>(() => new AgentSettings { NodeLabels = ["novalue"] }.Resolve("/data", "192.0.2.7", controlPlane: false, "cluster.local"));
    }
}
