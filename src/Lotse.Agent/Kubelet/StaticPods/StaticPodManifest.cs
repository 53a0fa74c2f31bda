using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace Lotse.Agent.Kubelet.StaticPods;

/// <summary>
/// Reads a static pod file (YAML or JSON) into the pod the kubelet runs: named
/// <c>&lt;name&gt;-&lt;node&gt;</c>, bound to the node, annotated with its source and content hash,
/// which is also its UID (as the kubelet's file source does); and makes the mirror pod it publishes.
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

    /// <summary>The static pod in <paramref name="text"/>; <see cref="FormatException"/> when it is no pod.</summary>
    public static V1Pod Parse(string text, string nodeName)
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
        pod.Metadata.Uid = hash;
        pod.Metadata.ResourceVersion = null;
        pod.Metadata.Annotations = new Dictionary<string, string>(pod.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [MirrorAnnotation] = hash,
            [SourceAnnotation] = "file",
            [HashAnnotation] = hash,
        };
        pod.Metadata.OwnerReferences = null;
        pod.Spec.NodeName = nodeName;
        pod.Status = null;
        return pod;
    }

    /// <summary>Whether the pod is a mirror pod (the API's view of a static pod, never run itself).</summary>
    public static bool IsMirror(V1Pod pod) => pod.Metadata.Annotations?.ContainsKey(MirrorAnnotation) == true;

    /// <summary>The mirror pod of a static pod: the same pod, owned by its Node, with a UID of the API's.</summary>
    public static V1Pod Mirror(V1Pod staticPod, string nodeUid)
    {
        var mirror = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(staticPod));
        mirror.Metadata.Uid = null;
        mirror.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = staticPod.Spec.NodeName, Uid = nodeUid, Controller = true }];
        return mirror;
    }
}
