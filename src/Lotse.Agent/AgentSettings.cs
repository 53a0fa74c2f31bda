using k8s.Models;
using Lotse.Agent.Kubelet;
using Lotse.Agent.Registries;

namespace Lotse.Agent;

/// <summary>The node flags <c>lotse server</c> and <c>lotse agent</c> share (K3s' names).</summary>
public sealed record AgentSettings
{
    /// <summary>--node-name; default: the host name.</summary>
    public string? NodeName { get; init; }

    /// <summary>--node-ip; default: the host's first address.</summary>
    public string? NodeIp { get; init; }

    /// <summary>--node-label key=value.</summary>
    public IReadOnlyList<string> NodeLabels { get; init; } = [];

    /// <summary>--node-taint key=value:Effect.</summary>
    public IReadOnlyList<string> NodeTaints { get; init; } = [];

    /// <summary>--pause-image; default: one the agent builds from catatonit.</summary>
    public string PauseImage { get; init; } = Images.PauseImage.Default;

    /// <summary>--container-runtime-endpoint: an existing CRI socket instead of the agent's own containerd.</summary>
    public string? ContainerRuntimeEndpoint { get; init; }

    /// <summary>--pod-manifest-path: static pod files this node runs.</summary>
    public string? PodManifestPath { get; init; }

    /// <summary>--eviction-hard: pressure thresholds in the kubelet's syntax.</summary>
    public string EvictionHard { get; init; } = Node.EvictionThresholds.Default;

    /// <summary>--private-registry: K3s' registries.yaml (mirrors, rewrites, credentials, TLS); a missing file configures nothing.</summary>
    public string PrivateRegistry { get; init; } = RegistriesFile.DefaultPath;

    /// <summary>The agent's options, or an <see cref="ArgumentException"/> naming the flag that is wrong.</summary>
    public NodeAgentOptions Resolve(string dataDir, string defaultIp, bool controlPlane, string clusterDomain)
    {
        var name = string.IsNullOrEmpty(NodeName) ? Environment.MachineName.ToLowerInvariant() : NodeName;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in NodeLabels)
        {
            var equals = label.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"--node-label \"{label}\": expected key=value");
            }

            labels[label[..equals]] = label[(equals + 1)..];
        }

        return new NodeAgentOptions
        {
            Kubelet = new KubeletOptions
            {
                NodeName = name,
                NodeIp = string.IsNullOrEmpty(NodeIp) ? defaultIp : NodeIp,
                AgentDir = Path.Combine(dataDir, "agent"),
                Labels = labels,
                Taints = [.. NodeTaints.Select(ParseTaint)],
                ControlPlane = controlPlane,
                ClusterDomain = clusterDomain,
                PodManifestPath = Path.GetFullPath(string.IsNullOrEmpty(PodManifestPath) ? Path.Combine(dataDir, "agent", "pod-manifests") : PodManifestPath),
                EvictionHard = Node.EvictionThresholds.Parse(EvictionHard),
                PauseImage = PauseImage,
                ImageFs = string.IsNullOrEmpty(ContainerRuntimeEndpoint) ? null : Path.Combine(dataDir, "agent"),
                Registries = string.IsNullOrEmpty(PrivateRegistry) ? RegistriesConfig.Empty : RegistriesFile.Load(PrivateRegistry),
            },
            ContainerRuntimeEndpoint = ContainerRuntimeEndpoint,
        };
    }

    /// <summary>key=value:Effect or key:Effect, as kubectl taint writes them.</summary>
    internal static V1Taint ParseTaint(string text)
    {
        var colon = text.LastIndexOf(':');
        var effect = colon > 0 ? text[(colon + 1)..] : string.Empty;
        if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute"))
        {
            throw new ArgumentException($"--node-taint \"{text}\": expected key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute");
        }

        var keyValue = text[..colon];
        var equals = keyValue.IndexOf('=', StringComparison.Ordinal);
        return equals < 0
            ? new V1Taint { Key = keyValue, Effect = effect }
            : new V1Taint { Key = keyValue[..equals], Value = keyValue[(equals + 1)..], Effect = effect };
    }
}
