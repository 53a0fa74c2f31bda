using System.CommandLine;
using Lotse.Agent;

namespace Lotse.Commands;

/// <summary>The node flags <c>lotse server</c> and <c>lotse agent</c> share (K3s' names).</summary>
internal sealed class AgentFlags
{
    public Option<string?> NodeName { get; } = new("--node-name") { Description = "Node name (default: this host's name)" };

    public Option<string?> NodeIp { get; } = new("--node-ip") { Description = "The node's InternalIP (default: this host's first IPv4 address)" };

    public Option<string[]> NodeLabels { get; } = new("--node-label") { Description = "Label the node registers with, key=value (repeatable)", AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] };

    public Option<string[]> NodeTaints { get; } = new("--node-taint") { Description = "Taint the node registers with, key=value:Effect (repeatable)", AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] };

    public Option<string> PauseImage { get; } = new("--pause-image") { Description = "Sandbox image (default: built from catatonit and imported, no registry needed)", DefaultValueFactory = _ => Agent.Images.PauseImage.Default };

    public Option<string?> ContainerRuntimeEndpoint { get; } = new("--container-runtime-endpoint") { Description = "Use this CRI socket instead of starting containerd" };

    public Option<string?> PodManifestPath { get; } = new("--pod-manifest-path") { Description = "Directory of static pod files (YAML or JSON) this node runs, published as mirror pods (default: <data-dir>/agent/pod-manifests)" };

    public Option<string> EvictionHard { get; } = new("--eviction-hard") { Description = "Thresholds below which the node reports memory, disk or PID pressure (the kubelet's syntax)", DefaultValueFactory = _ => Agent.Node.EvictionThresholds.Default };

    public Option<string> PrivateRegistry { get; } = new("--private-registry") { Description = "Registry configuration in K3s' registries.yaml format: mirrors, rewrites, credentials, TLS (a missing file configures nothing)", DefaultValueFactory = _ => Agent.Registries.RegistriesFile.DefaultPath };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { NodeName, NodeIp, NodeLabels, NodeTaints, PauseImage, ContainerRuntimeEndpoint, PodManifestPath, EvictionHard, PrivateRegistry })
        {
            command.Options.Add(option);
        }
    }

    public AgentSettings Read(ParseResult parsed) => new()
    {
        NodeName = parsed.GetValue(NodeName),
        NodeIp = parsed.GetValue(NodeIp),
        NodeLabels = parsed.GetValue(NodeLabels) ?? [],
        NodeTaints = parsed.GetValue(NodeTaints) ?? [],
        PauseImage = parsed.GetValue(PauseImage)!,
        ContainerRuntimeEndpoint = parsed.GetValue(ContainerRuntimeEndpoint),
        PodManifestPath = parsed.GetValue(PodManifestPath),
        EvictionHard = parsed.GetValue(EvictionHard)!,
        PrivateRegistry = parsed.GetValue(PrivateRegistry)!,
    };
}
