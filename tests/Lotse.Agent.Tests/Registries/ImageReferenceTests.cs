using Lotse.Agent.Registries;
using Lotse.Client.Images;

namespace Lotse.Agent.Tests.Registries;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "")]
    [InlineData("busybox:1", "docker.io", "library/busybox", ":1")]
    [InlineData("rancher/pause:3.6", "docker.io", "rancher/pause", ":3.6")]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "")]
    [InlineData("index.docker.io/library/busybox:1", "docker.io", "library/busybox", ":1")]
    [InlineData("quay.io/coreos/etcd@sha256:abc", "quay.io", "coreos/etcd", "@sha256:abc")]
    [InlineData("localhost/app:2", "localhost", "app", ":2")]
    [InlineData("10.0.0.1:5000/app:2", "10.0.0.1:5000", "app", ":2")]
    [InlineData("mirror.lotse.test/busybox:1@sha256:abc", "mirror.lotse.test", "busybox", ":1@sha256:abc")]
    public void Parse_NormalizesAsDocker(string image, string registry, string repository, string suffix)
    {
        var reference = ImageReference.Parse(image);
        Assert.NotNull(reference);
        Assert.Equal((registry, repository, suffix), (reference.Registry, reference.Repository, reference.Suffix));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("Upper/Case")]
    [InlineData("busybox:")]
    [InlineData("quay.io/")]
    public void Parse_NoImageName_IsNull(string image) => Assert.Null(ImageReference.Parse(image));

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("10.0.0.1:5000", false)]
    [InlineData("mirror.example", false)]
    public void IsLocalhost_LoopbackHosts(string host, bool expected) => Assert.Equal(expected, ImageReference.IsLocalhost(host));
}
