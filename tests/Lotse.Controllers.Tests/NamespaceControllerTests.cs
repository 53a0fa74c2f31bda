using k8s;
using k8s.Models;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

[Collection(ControllersGroup.Name)]
public sealed class NamespaceControllerTests(ControllersFixture fixture)
{
    private readonly Kubernetes _client = fixture.Client;

    [Fact]
    public async Task DeleteNamespace_EmptiesItThenItIsGone()
    {
        await _client.CreateNamespaceAsync("ns-delete");
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cm" } }, "ns-delete");
        await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, "ns-delete");
        await _client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("web", 2), "ns-delete");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedPodAsync("ns-delete")).Items.Count == 2, "the replicaset made its pods");

        await _client.CoreV1.DeleteNamespaceAsync("ns-delete");
        await EventuallyAsync(() => Helpers.IsGoneAsync(() => _client.CoreV1.ReadNamespaceAsync("ns-delete")), "the namespace is gone");
        Assert.Empty((await _client.CoreV1.ListNamespacedConfigMapAsync("ns-delete")).Items);
        Assert.Empty((await _client.CoreV1.ListNamespacedPodAsync("ns-delete")).Items);
        Assert.Empty((await _client.AppsV1.ListNamespacedReplicaSetAsync("ns-delete")).Items);
    }

    [Fact]
    public async Task DeleteNamespace_AlsoDeletesItsCustomObjects()
    {
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "widgets.ns.example.com" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "ns.example.com",
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget" },
                Versions = [new V1CustomResourceDefinitionVersion { Name = "v1", Served = true, Storage = true, Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true } } }],
            },
        };
        await _client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        await EventuallyAsync(async () => (await _client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.ns.example.com")).Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true, "the definition is established");
        await _client.CreateNamespaceAsync("ns-custom");
        await _client.CustomObjects.CreateNamespacedCustomObjectAsync(new { apiVersion = "ns.example.com/v1", kind = "Widget", metadata = new { name = "w" }, spec = new { size = 3 } }, "ns.example.com", "v1", "ns-custom", "widgets");
        await _client.CoreV1.DeleteNamespaceAsync("ns-custom");
        await EventuallyAsync(() => Helpers.IsGoneAsync(() => _client.CoreV1.ReadNamespaceAsync("ns-custom")), "the namespace is gone");
        var left = (System.Text.Json.JsonElement)await _client.CustomObjects.ListClusterCustomObjectAsync("ns.example.com", "v1", "widgets");
        Assert.Equal(0, left.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task NewNamespace_GetsDefaultServiceAccountAndRootCa_RestoredWhenRemoved()
    {
        await _client.CreateNamespaceAsync("ns-defaults");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedServiceAccountAsync("ns-defaults")).Items.Any(s => s.Metadata.Name == "default"), "the default service account exists");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedConfigMapAsync("ns-defaults")).Items.Any(c => c.Metadata.Name == Lotse.Controllers.RootCaPublisher.RootCaPublisher.ConfigMapName), "kube-root-ca.crt exists");
        var ca = await _client.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", "ns-defaults");
        Assert.Equal(RootCa, ca.Data["ca.crt"]);

        await _client.CoreV1.DeleteNamespacedServiceAccountAsync("default", "ns-defaults");
        ca.Data["ca.crt"] = "tampered";
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(ca, "kube-root-ca.crt", "ns-defaults");
        await EventuallyAsync(async () => (await _client.CoreV1.ListNamespacedServiceAccountAsync("ns-defaults")).Items.Any(s => s.Metadata.Name == "default"), "the default service account is back");
        await EventuallyAsync(async () => (await _client.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", "ns-defaults")).Data["ca.crt"] == RootCa, "the CA is restored");
    }
}
