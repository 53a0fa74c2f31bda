using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace Lotse.Agent.Kubelet.StaticPods;

/// <summary>
/// Reads a static pod file (YAML or JSON) and turns it into the mirror pod the kubelet publishes:
/// named <c>&lt;name&gt;-&lt;node&gt;</c>, bound to the node, annotated with its source and content
/// hash, owned by the Node.
/// </summary>
internal static class StaticPodManifest
{
    public const string MirrorAnnotation = "kubernetes.io/config.mirror";
    public const string SourceAnnotation = "kubernetes.io/config.source";
    public const string HashAnnotation = "kubernetes.io/config.hash";

    /// <summary>Whether the file is one the scan reads (not hidden, not an editor's backup).</summary>
    public static bool IsManifest(string path)
    {
        var name = Path.GetFileName(path);
        return !name.StartsWith('.') && !name.EndsWith('~') && !name.EndsWith(".swp", StringComparison.Ordinal);
    }

    /// <summary>The mirror pod for <paramref name="text"/>; <see cref="FormatException"/> when it is no pod.</summary>
    public static V1Pod Parse(string text, string nodeName, string nodeUid)
    {
        V1Pod pod;
        try
        {
            pod = KubernetesYaml.Deserialize<V1Pod>(text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException($"not a pod manifest: {e.Message}", e);
        }

        if (pod is null || pod.Kind != "Pod" || pod.Metadata?.Name is not { Length: > 0 } || pod.Spec?.Containers is not { Count: > 0 })
        {
            throw new FormatException("not a pod manifest: kind Pod with metadata.name and containers required");
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(nodeName + "\n" + text)))[..32];
        pod.ApiVersion = "v1";
        pod.Metadata.Name = $"{pod.Metadata.Name}-{nodeName}";
        pod.Metadata.NamespaceProperty = pod.Metadata.NamespaceProperty is { Length: > 0 } ns ? ns : "default";
        pod.Metadata.Uid = null;
        pod.Metadata.ResourceVersion = null;
        pod.Metadata.Annotations = new Dictionary<string, string>(pod.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [MirrorAnnotation] = hash,
            [SourceAnnotation] = "file",
            [HashAnnotation] = hash,
        };
        pod.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = nodeUid, Controller = true }];
        pod.Spec.NodeName = nodeName;
        pod.Status = null;
        return pod;
    }
}
