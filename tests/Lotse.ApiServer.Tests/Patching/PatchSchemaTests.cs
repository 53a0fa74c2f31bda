using Lotse.ApiServer.Patching;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class PatchSchemaTests
{
    [Theory]
    [InlineData("", "Pod", "spec.containers", "name")]
    [InlineData("", "Pod", "spec.initContainers.env", "name")]
    [InlineData("", "Pod", "spec.ephemeralContainers.ports", "containerPort")]
    [InlineData("", "Pod", "spec.containers.volumeMounts", "mountPath")]
    [InlineData("", "Pod", "spec.containers.volumeDevices", "devicePath")]
    [InlineData("", "Pod", "spec.volumes", "name")]
    [InlineData("", "Pod", "spec.imagePullSecrets", "name")]
    [InlineData("", "Pod", "spec.hostAliases", "ip")]
    [InlineData("", "Pod", "spec.topologySpreadConstraints", "topologyKey")]
    [InlineData("", "Pod", "status.conditions", "type")]
    [InlineData("", "Pod", "status.podIPs", "ip")]
    [InlineData("", "Pod", "metadata.ownerReferences", "uid")]
    [InlineData("", "PodTemplate", "template.spec.containers.env", "name")]
    [InlineData("", "PodTemplate", "template.metadata.ownerReferences", "uid")]
    [InlineData("", "ReplicationController", "spec.template.spec.containers", "name")]
    [InlineData("apps", "Deployment", "spec.template.spec.containers.env", "name")]
    [InlineData("apps", "ReplicaSet", "spec.template.spec.volumes", "name")]
    [InlineData("apps", "StatefulSet", "spec.template.spec.containers", "name")]
    [InlineData("apps", "DaemonSet", "spec.template.spec.initContainers", "name")]
    [InlineData("apps", "Deployment", "status.conditions", "type")]
    [InlineData("batch", "Job", "spec.template.spec.containers", "name")]
    [InlineData("batch", "Job", "status.conditions", "type")]
    [InlineData("batch", "CronJob", "spec.jobTemplate.spec.template.spec.containers.ports", "containerPort")]
    [InlineData("", "Service", "spec.ports", "port")]
    [InlineData("", "Node", "status.conditions", "type")]
    [InlineData("", "Node", "status.addresses", "type")]
    [InlineData("", "ServiceAccount", "secrets", "name")]
    [InlineData("autoscaling", "HorizontalPodAutoscaler", "status.conditions", "type")]
    [InlineData("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "webhooks.matchConditions", "name")]
    public void For_BuiltInKind_MergesTheTaggedListByItsKey(string group, string kind, string path, string mergeKey)
    {
        var field = PatchSchema.For(group, kind).Lookup(path);
        Assert.True(field.MergesList);
        Assert.Equal(mergeKey, field.MergeKey);
    }

    [Theory]
    [InlineData("", "Pod", "metadata.finalizers")]
    [InlineData("", "Node", "spec.podCIDRs")]
    [InlineData("", "ConfigMap", "metadata.finalizers")]
    [InlineData("rbac.authorization.k8s.io", "Role", "metadata.finalizers")]
    public void For_PrimitiveSetLists_MergeWithoutKey(string group, string kind, string path)
    {
        var field = PatchSchema.For(group, kind).Lookup(path);
        Assert.True(field.MergesList);
        Assert.Null(field.MergeKey);
    }

    [Theory]
    [InlineData("", "Pod", "spec.tolerations")]
    [InlineData("", "Pod", "spec.readinessGates")]
    [InlineData("", "Pod", "spec.containers.envFrom")]
    [InlineData("", "Pod", "spec.containers.resizePolicy")]
    [InlineData("", "Pod", "spec.containers.args")]
    [InlineData("", "Pod", "status.containerStatuses")]
    [InlineData("", "Node", "spec.taints")]
    [InlineData("", "Endpoints", "subsets")]
    [InlineData("", "Service", "spec.externalIPs")]
    [InlineData("apps", "Deployment", "spec.template.spec.tolerations")]
    [InlineData("apps", "Deployment", "metadata.managedFields")]
    public void For_UntaggedLists_AreReplaced(string group, string kind, string path) =>
        Assert.False(PatchSchema.For(group, kind).Lookup(path).MergesList);

    [Fact]
    public void For_RetainKeysAndReplaceFields_CarryTheirStrategies()
    {
        Assert.Equal(PatchStrategy.RetainKeys, PatchSchema.For("apps", "Deployment").Lookup("spec.strategy").Strategy);
        Assert.Equal(PatchStrategy.Merge | PatchStrategy.RetainKeys, PatchSchema.For("", "Pod").Lookup("spec.volumes").Strategy);
        Assert.True(PatchSchema.For("policy", "PodDisruptionBudget").Lookup("spec.selector").ReplacesMap);
    }

    [Fact]
    public void For_CustomResources_HaveNoMetadataAtAll()
    {
        Assert.True(PatchSchema.For("example.com", "Widget").IsEmpty);
        Assert.Same(PatchSchema.Empty, PatchSchema.For("stable.example.com", "CronTab"));
        Assert.False(PatchSchema.For("example.com", "Widget").Lookup("metadata.finalizers").MergesList);
    }

    [Fact]
    public void Lookup_UnknownPath_IsUntagged()
    {
        Assert.Same(PatchField.Untagged, PatchSchema.For("", "Pod").Lookup("spec.nope.containers"));
        Assert.Same(PatchField.Untagged, PatchSchema.Empty.Field("anything"));
    }
}
