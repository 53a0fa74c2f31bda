using k8s;
using k8s.Models;

namespace Lotse.Controllers.Autoscaling;

/// <summary>The scale subresource (autoscaling/v1 Scale) of an HPA's target, for the kinds that serve one.</summary>
internal sealed class TargetScale(Func<CancellationToken, Task<V1Scale>> read, Func<V1Patch, CancellationToken, Task> patch)
{
    public static TargetScale? For(IKubernetes client, V2CrossVersionObjectReference target, string ns) => (GroupOf(target.ApiVersion), target.Kind) switch
    {
        ("apps", "Deployment") => new(ct => client.AppsV1.ReadNamespacedDeploymentScaleAsync(target.Name, ns, cancellationToken: ct), (p, ct) => client.AppsV1.PatchNamespacedDeploymentScaleAsync(p, target.Name, ns, cancellationToken: ct)),
        ("apps", "ReplicaSet") => new(ct => client.AppsV1.ReadNamespacedReplicaSetScaleAsync(target.Name, ns, cancellationToken: ct), (p, ct) => client.AppsV1.PatchNamespacedReplicaSetScaleAsync(p, target.Name, ns, cancellationToken: ct)),
        ("apps", "StatefulSet") => new(ct => client.AppsV1.ReadNamespacedStatefulSetScaleAsync(target.Name, ns, cancellationToken: ct), (p, ct) => client.AppsV1.PatchNamespacedStatefulSetScaleAsync(p, target.Name, ns, cancellationToken: ct)),
        ("", "ReplicationController") => new(ct => client.CoreV1.ReadNamespacedReplicationControllerScaleAsync(target.Name, ns, cancellationToken: ct), (p, ct) => client.CoreV1.PatchNamespacedReplicationControllerScaleAsync(p, target.Name, ns, cancellationToken: ct)),
        _ => null,
    };

    public static string GroupOf(string? apiVersion) => apiVersion?.Contains('/', StringComparison.Ordinal) == true ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;

    public static string Plural(string kind) => kind.ToLowerInvariant() + "s";

    public Task<V1Scale> ReadAsync(CancellationToken cancellationToken) => read(cancellationToken);

    public Task WriteAsync(int replicas, CancellationToken cancellationToken) =>
        patch(new V1Patch($$"""{"spec":{"replicas":{{replicas}}} }""", V1Patch.PatchType.MergePatch), cancellationToken);
}
