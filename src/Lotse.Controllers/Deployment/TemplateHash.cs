using k8s;
using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Deployment;

/// <summary>
/// The <c>pod-template-hash</c> a Deployment puts on its ReplicaSets and their pods: the
/// <see cref="SafeHash"/> of the pod template (and the collision count). The value differs from kube's (which hashes Go's printing of
/// the struct); what matters — equal templates, equal hash; a stable, label-safe value — holds.
/// </summary>
public static class TemplateHash
{
    public const string Label = "pod-template-hash";

    public static string Compute(V1PodTemplateSpec template, int? collisionCount) =>
        SafeHash.Of(KubernetesJson.Serialize(template) + (collisionCount is { } c ? $"#{c}" : string.Empty));

    /// <summary>Whether two templates are the same apart from the hash label (kube's EqualIgnoreHash).</summary>
    public static bool EqualIgnoringHash(V1PodTemplateSpec? a, V1PodTemplateSpec? b) =>
        KubernetesJson.Serialize(WithoutHash(a)) == KubernetesJson.Serialize(WithoutHash(b));

    /// <summary>A copy of the template without the hash label.</summary>
    public static V1PodTemplateSpec? WithoutHash(V1PodTemplateSpec? template)
    {
        if (template is null)
        {
            return null;
        }

        var copy = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(template));
        if (copy.Metadata?.Labels is { } labels)
        {
            labels.Remove(Label);
            if (labels.Count == 0)
            {
                copy.Metadata.Labels = null;
            }
        }

        return copy;
    }
}
