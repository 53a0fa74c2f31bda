namespace Lotse.ApiServer.Patching;

/// <summary>
/// A field's <c>patchStrategy</c> struct tag in k8s.io/api. With no flag set a map merges and a list is
/// replaced, which is what untagged fields do.
/// </summary>
[Flags]
public enum PatchStrategy
{
    None = 0,

    /// <summary>A list merges: maps item by item on the merge key, primitives as an ordered set.</summary>
    Merge = 1,

    /// <summary>A map is replaced as a whole (e.g. <c>PodDisruptionBudgetSpec.selector</c>).</summary>
    Replace = 2,

    /// <summary>
    /// The client sends <c>$retainKeys</c> for this field (<c>DeploymentSpec.strategy</c>, <c>PodSpec.volumes</c>
    /// items). Informational for the server: kube-apiserver honours <c>$retainKeys</c> wherever it appears.
    /// </summary>
    RetainKeys = 4,
}
