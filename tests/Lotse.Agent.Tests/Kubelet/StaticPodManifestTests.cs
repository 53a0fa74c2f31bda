using Lotse.Agent.Kubelet.StaticPods;

namespace Lotse.Agent.Tests.Kubelet;

public sealed class StaticPodManifestTests
{
    private const string Yaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: etcd
          namespace: kube-system
          labels: {component: etcd}
        spec:
          containers:
          - name: etcd
            image: busybox
        """;

    [Fact]
    public void Parse_Yaml_MakesTheStaticPod_AndItsMirror()
    {
        var pod = StaticPodManifest.Parse(Yaml, "n1");
        Assert.Equal("etcd-n1", pod.Metadata.Name);
        Assert.Equal("kube-system", pod.Metadata.NamespaceProperty);
        Assert.Equal("n1", pod.Spec.NodeName);
        Assert.Equal("etcd", pod.Metadata.Labels["component"]);
        Assert.Equal("file", pod.Metadata.Annotations[StaticPodManifest.SourceAnnotation]);
        Assert.Equal(32, pod.Metadata.Annotations[StaticPodManifest.HashAnnotation].Length);
        Assert.Equal(pod.Metadata.Annotations[StaticPodManifest.HashAnnotation], pod.Metadata.Annotations[StaticPodManifest.MirrorAnnotation]);
        Assert.Equal(pod.Metadata.Annotations[StaticPodManifest.HashAnnotation], pod.Metadata.Uid); // the kubelet runs it under its hash
        Assert.Null(pod.Metadata.OwnerReferences);
        Assert.True(StaticPodManifest.IsMirror(pod));

        var mirror = StaticPodManifest.Mirror(pod, "node-uid");
        Assert.Null(mirror.Metadata.Uid);
        Assert.Equal(pod.Metadata.Uid, pod.Metadata.Annotations[StaticPodManifest.MirrorAnnotation]); // the static pod is untouched
        Assert.Equal(("etcd-n1", "n1"), (mirror.Metadata.Name, mirror.Spec.NodeName));
        var owner = Assert.Single(mirror.Metadata.OwnerReferences);
        Assert.Equal(("Node", "n1", "node-uid", true), (owner.Kind, owner.Name, owner.Uid, owner.Controller == true));
    }

    [Fact]
    public void Parse_Json_DefaultsTheNamespace_AndTheHashFollowsTheContent()
    {
        const string Json = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""";
        var pod = StaticPodManifest.Parse(Json, "n1");
        Assert.Equal("default", pod.Metadata.NamespaceProperty);
        Assert.Equal("web-n1", pod.Metadata.Name);
        var changed = StaticPodManifest.Parse(Json.Replace("busybox", "alpine", StringComparison.Ordinal), "n1");
        Assert.NotEqual(pod.Metadata.Annotations[StaticPodManifest.HashAnnotation], changed.Metadata.Annotations[StaticPodManifest.HashAnnotation]);
        Assert.Equal(pod.Metadata.Annotations[StaticPodManifest.HashAnnotation], StaticPodManifest.Parse(Json, "n1").Metadata.Annotations[StaticPodManifest.HashAnnotation]);
    }

    [Theory]
    [InlineData("kind: Service\napiVersion: v1\nmetadata: {name: x}")]
    [InlineData("kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec: {containers: []}")]
    [InlineData(": : not yaml [")]
    public void Parse_NoPod_IsAFormatError(string text) =>
        Assert.Throws<FormatException>(() => StaticPodManifest.Parse(text, "n1"));

    [Theory]
    [InlineData("/m/web.yaml", true)]
    [InlineData("/m/.hidden.yaml", false)]
    [InlineData("/m/web.yaml~", false)]
    public void IsManifest_SkipsHiddenAndBackupFiles(string path, bool expected) =>
        Assert.Equal(expected, StaticPodManifest.IsManifest(path));
}
