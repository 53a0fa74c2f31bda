using k8s;

namespace Lotse.Controllers.Namespace;

/// <summary>
/// The namespaced kinds a terminating namespace is emptied of: delete them all, then look whether
/// any is left (pods on a node stay until their agent confirms). Namespaced custom resources join
/// from the CustomResourceDefinitions there are at the time.
/// </summary>
internal sealed record NamespaceContent(
    string Resource,
    Func<IKubernetes, string, CancellationToken, Task> DeleteAll,
    Func<IKubernetes, string, CancellationToken, Task<bool>> AnyLeft)
{
    public static readonly IReadOnlyList<NamespaceContent> BuiltIn =
    [
        new("pods", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedPodAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedPodAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("services", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedServiceAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedServiceAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("configmaps", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedConfigMapAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedConfigMapAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("secrets", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedSecretAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedSecretAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("serviceaccounts", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedServiceAccountAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedServiceAccountAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("endpoints", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedEndpointsAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedEndpointsAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("events", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedEventAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedEventAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("persistentvolumeclaims", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedPersistentVolumeClaimAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("resourcequotas", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedResourceQuotaAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedResourceQuotaAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("limitranges", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedLimitRangeAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedLimitRangeAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("podtemplates", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedPodTemplateAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedPodTemplateAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("replicationcontrollers", async (c, ns, ct) => await c.CoreV1.DeleteCollectionNamespacedReplicationControllerAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoreV1.ListNamespacedReplicationControllerAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("deployments.apps", async (c, ns, ct) => await c.AppsV1.DeleteCollectionNamespacedDeploymentAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AppsV1.ListNamespacedDeploymentAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("replicasets.apps", async (c, ns, ct) => await c.AppsV1.DeleteCollectionNamespacedReplicaSetAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AppsV1.ListNamespacedReplicaSetAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("statefulsets.apps", async (c, ns, ct) => await c.AppsV1.DeleteCollectionNamespacedStatefulSetAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AppsV1.ListNamespacedStatefulSetAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("daemonsets.apps", async (c, ns, ct) => await c.AppsV1.DeleteCollectionNamespacedDaemonSetAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AppsV1.ListNamespacedDaemonSetAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("controllerrevisions.apps", async (c, ns, ct) => await c.AppsV1.DeleteCollectionNamespacedControllerRevisionAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AppsV1.ListNamespacedControllerRevisionAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("jobs.batch", async (c, ns, ct) => await c.BatchV1.DeleteCollectionNamespacedJobAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.BatchV1.ListNamespacedJobAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("cronjobs.batch", async (c, ns, ct) => await c.BatchV1.DeleteCollectionNamespacedCronJobAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.BatchV1.ListNamespacedCronJobAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("horizontalpodautoscalers.autoscaling", async (c, ns, ct) => await c.AutoscalingV2.DeleteCollectionNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("leases.coordination.k8s.io", async (c, ns, ct) => await c.CoordinationV1.DeleteCollectionNamespacedLeaseAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.CoordinationV1.ListNamespacedLeaseAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("endpointslices.discovery.k8s.io", async (c, ns, ct) => await c.DiscoveryV1.DeleteCollectionNamespacedEndpointSliceAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("ingresses.networking.k8s.io", async (c, ns, ct) => await c.NetworkingV1.DeleteCollectionNamespacedIngressAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.NetworkingV1.ListNamespacedIngressAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("networkpolicies.networking.k8s.io", async (c, ns, ct) => await c.NetworkingV1.DeleteCollectionNamespacedNetworkPolicyAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("poddisruptionbudgets.policy", async (c, ns, ct) => await c.PolicyV1.DeleteCollectionNamespacedPodDisruptionBudgetAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("roles.rbac.authorization.k8s.io", async (c, ns, ct) => await c.RbacAuthorizationV1.DeleteCollectionNamespacedRoleAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
        new("rolebindings.rbac.authorization.k8s.io", async (c, ns, ct) => await c.RbacAuthorizationV1.DeleteCollectionNamespacedRoleBindingAsync(ns, cancellationToken: ct), async (c, ns, ct) => (await c.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, limit: 1, cancellationToken: ct)).Items.Count > 0),
    ];

    /// <summary>The namespaced custom resources served now, each through its storage version.</summary>
    public static async Task<List<NamespaceContent>> CustomAsync(IKubernetes client, CancellationToken cancellationToken)
    {
        var definitions = await client.ApiextensionsV1.ListCustomResourceDefinitionAsync(cancellationToken: cancellationToken);
        var contents = new List<NamespaceContent>();
        foreach (var crd in definitions.Items.Where(d => d.Spec.Scope == "Namespaced" && d.Metadata.DeletionTimestamp is null))
        {
            var group = crd.Spec.Group;
            var plural = crd.Spec.Names.Plural;
            if (crd.Spec.Versions.FirstOrDefault(v => v.Storage) is not { } version)
            {
                continue;
            }

            contents.Add(new(
                $"{plural}.{group}",
                async (c, ns, ct) => await c.CustomObjects.DeleteCollectionNamespacedCustomObjectAsync(group, version.Name, ns, plural, cancellationToken: ct),
                async (c, ns, ct) => await c.CustomObjects.ListNamespacedCustomObjectAsync(group, version.Name, ns, plural, limit: 1, cancellationToken: ct) is System.Text.Json.JsonElement list
                    && list.TryGetProperty("items", out var items) && items.GetArrayLength() > 0));
        }

        return contents;
    }
}
