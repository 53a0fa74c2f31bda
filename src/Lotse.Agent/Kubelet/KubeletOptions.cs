using k8s.Models;
using Lotse.Agent.Registries;

namespace Lotse.Agent.Kubelet;

/// <summary>What a node agent is told at start (the flags of <c>lotse agent</c> and <c>lotse server</c>).</summary>
public sealed record KubeletOptions
{
    public required string NodeName { get; init; }

    /// <summary>The node's InternalIP.</summary>
    public required string NodeIp { get; init; }

    /// <summary>The agent's directory (<c>&lt;data-dir&gt;/agent</c>): containerd, CNI configuration, pod logs and volumes.</summary>
    public required string AgentDir { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary>Runs on a server: labelled <c>node-role.kubernetes.io/control-plane</c>.</summary>
    public bool ControlPlane { get; init; }

    public string ClusterDomain { get; init; } = "cluster.local";

    public TimeSpan LeaseInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the runtime is relisted for container changes (the kubelet's PLEG period).</summary>
    public TimeSpan RelistInterval { get; init; } = TimeSpan.FromSeconds(1);

    public int MaxPods { get; init; } = 110;

    /// <summary>The kubelet's HTTPS port, published on the Node as <c>daemonEndpoints.kubeletEndpoint</c>.</summary>
    public int Port { get; init; } = 10250;

    /// <summary>The version the node reports: the API server's (one binary).</summary>
    public string KubeletVersion { get; init; } = "v1.33.0+lotse";

    /// <summary>--pod-manifest-path: a directory of static pod files the node runs (published as mirror pods).</summary>
    public string? PodManifestPath { get; init; }

    /// <summary>--pause-image: the sandbox image (never garbage-collected).</summary>
    public string PauseImage { get; init; } = Images.PauseImage.Default;

    /// <summary>--eviction-hard: the thresholds below which the node reports memory, disk or PID pressure.</summary>
    public Node.EvictionThresholds EvictionHard { get; init; } = Node.EvictionThresholds.Parse(Node.EvictionThresholds.Default);

    /// <summary>The file system images live on (imagefs); default: the agent's containerd directory.</summary>
    public string? ImageFs { get; init; }

    /// <summary>--private-registry's contents: the kubelet applies its rewrites when it pulls (containerd gets the rest).</summary>
    public RegistriesConfig Registries { get; init; } = RegistriesConfig.Empty;

    public string CniConfDir => Path.Combine(AgentDir, "etc", "cni", "net.d");

    public string PodLogDir => Path.Combine(AgentDir, "logs", "pods");
}
