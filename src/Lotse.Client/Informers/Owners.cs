using k8s;
using k8s.Models;

namespace Lotse.Client.Informers;

/// <summary>Owner references: the controller of an object, and the index informers keep by owner UID.</summary>
public static class Owners
{
    /// <summary>The name of the index of objects by the UID of each of their owners.</summary>
    public const string OwnerUidIndex = "owner-uid";

    /// <summary>The name of the index of objects without a controller, by namespace (the candidates for adoption).</summary>
    public const string OrphanIndex = "orphans";

    public static IEnumerable<string> OrphanNamespace(IKubernetesObject<V1ObjectMeta> obj) =>
        ControllerOf(obj) is null ? [obj.Metadata?.NamespaceProperty ?? string.Empty] : [];

    public static V1OwnerReference? ControllerOf(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata?.OwnerReferences?.FirstOrDefault(r => r.Controller == true);

    public static IEnumerable<string> OwnerUids(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata?.OwnerReferences?.Select(r => r.Uid) ?? [];

    /// <summary>A reference that makes <paramref name="owner"/> the controller of a dependent, blocking the owner's foreground deletion.</summary>
    public static V1OwnerReference ControllerReference(IKubernetesObject<V1ObjectMeta> owner, string apiVersion, string kind) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };
}
