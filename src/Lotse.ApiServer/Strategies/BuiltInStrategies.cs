using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;

namespace Lotse.ApiServer.Strategies;

/// <summary>The strategy of each built-in kind; kinds without rules of their own get the default.</summary>
public static class BuiltInStrategies
{
    private static readonly ResourceStrategy PathSegmentNames = new PathSegmentNameStrategy();

    public static ResourceStrategy For(string group, string kind) => (group, kind) switch
    {
        ("", "Pod") => new PodStrategy(),
        ("", "Service") => new ServiceStrategy(),
        ("", "Namespace") => new NamespaceStrategy(),
        ("", "Secret") => new SecretStrategy(),
        ("", "ReplicationController") or ("apps", "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet") or ("batch", "Job" or "CronJob") => new WorkloadStrategy(kind),
        ("policy", "PodDisruptionBudget") => new PodDisruptionBudgetStrategy(),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => new Apiextensions.CustomResourceDefinitionStrategy(),
        ("rbac.authorization.k8s.io", _) => PathSegmentNames,
        _ => ResourceStrategy.Default,
    };

    /// <summary>RBAC objects may be named like "system:controller:x" (kubernetes validates them as path segments).</summary>
    private sealed class PathSegmentNameStrategy : ResourceStrategy
    {
        public override List<string> ValidateName(string name) => Names.IsPathSegmentName(name);
    }
}
