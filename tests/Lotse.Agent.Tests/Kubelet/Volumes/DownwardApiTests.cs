using System.Text;
using k8s.Models;
using Lotse.Agent.Kubelet.Volumes;

namespace Lotse.Agent.Tests.Kubelet.Volumes;

public sealed class DownwardApiTests
{
    [Fact]
    public void Render_FieldsLabelsAnnotationsAndResources()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = "web",
                NamespaceProperty = "shop",
                Uid = "u-1",
                Labels = new Dictionary<string, string> { ["tier"] = "front", ["app"] = "web" },
                Annotations = new Dictionary<string, string> { ["note"] = "say \"hi\"\nbye" },
            },
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container { Name = "c", Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } } },
                ],
            },
        };
        var payload = new Dictionary<string, FilePayload>(StringComparer.Ordinal);
        DownwardApi.Render(
            pod,
            [
                new V1DownwardAPIVolumeFile { Path = "name", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } },
                new V1DownwardAPIVolumeFile { Path = "ns", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" }, Mode = 256 },
                new V1DownwardAPIVolumeFile { Path = "uid", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.uid" } },
                new V1DownwardAPIVolumeFile { Path = "labels", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels" } },
                new V1DownwardAPIVolumeFile { Path = "annotations", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.annotations" } },
                new V1DownwardAPIVolumeFile { Path = "mem", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = "c", Resource = "limits.memory", Divisor = new ResourceQuantity("1Mi") } },
            ],
            420,
            "10.0.0.1",
            "10.42.0.5",
            payload);

        string Text(string path) => Encoding.UTF8.GetString(payload[path].Data);
        Assert.Equal("web", Text("name"));
        Assert.Equal("shop", Text("ns"));
        Assert.Equal(256, payload["ns"].Mode);
        Assert.Equal(420, payload["name"].Mode);
        Assert.Equal("u-1", Text("uid"));
        Assert.Equal("app=\"web\"\ntier=\"front\"", Text("labels"));
        Assert.Equal("note=\"say \\\"hi\\\"\\nbye\"", Text("annotations"));
        Assert.Equal("64", Text("mem"));
    }

    [Fact]
    public void Render_UnknownField_Fails() =>
        Assert.Throws<VolumeSetupException>(() => DownwardApi.Render(
            new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec { Containers = [] } },
            [new V1DownwardAPIVolumeFile { Path = "x", FieldRef = new V1ObjectFieldSelector { FieldPath = "spec.nothing" } }],
            420,
            string.Empty,
            string.Empty,
            new Dictionary<string, FilePayload>()));
}
