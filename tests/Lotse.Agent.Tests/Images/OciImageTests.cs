using System.Formats.Tar;
using System.Text.Json.Nodes;
using Lotse.Agent.Images;
using Lotse.Agent.Kubelet;

namespace Lotse.Agent.Tests.Images;

public sealed class OciImageTests
{
    private static byte[] Build(string reference)
    {
        var image = new OciImage(reference) { Entrypoint = ["/pause"] }
            .AddFile("pause", [1, 2, 3])
            .AddSymlink("bin/sh", "/pause");
        using var stream = new MemoryStream();
        image.WriteArchive(stream);
        return stream.ToArray();
    }

    private static Dictionary<string, byte[]> Entries(byte[] archive)
    {
        using var reader = new TarReader(new MemoryStream(archive));
        var entries = new Dictionary<string, byte[]>();
        while (reader.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries[entry.Name] = data.ToArray();
        }

        return entries;
    }

    [Fact]
    public void Archive_IsDeterministic_AndAnOciLayout()
    {
        var first = Build("lotse.io/pause:catatonit");
        Assert.Equal(first, Build("lotse.io/pause:catatonit"));
        var entries = Entries(first);
        Assert.Contains("oci-layout", entries.Keys);
        var index = JsonNode.Parse(entries["index.json"])!;
        var manifest = index["manifests"]![0]!;
        Assert.Equal("catatonit", manifest["annotations"]!["org.opencontainers.image.ref.name"]!.GetValue<string>());
        Assert.Equal("lotse.io/pause:catatonit", manifest["annotations"]!["io.containerd.image.name"]!.GetValue<string>());
        var digest = manifest["digest"]!.GetValue<string>();
        Assert.Contains("blobs/sha256/" + digest["sha256:".Length..], entries.Keys); // config, manifest and layer:
        Assert.Equal(3, entries.Keys.Count(k => k.StartsWith("blobs/sha256/", StringComparison.Ordinal) && k.Length > "blobs/sha256/".Length));
    }

    [Fact]
    public void TagOnly_LeavesTheNameToTheImporter()
    {
        var index = JsonNode.Parse(Entries(Build("1"))["index.json"])!;
        var annotations = index["manifests"]![0]!["annotations"]!.AsObject();
        Assert.Equal("1", annotations["org.opencontainers.image.ref.name"]!.GetValue<string>());
        Assert.False(annotations.ContainsKey("io.containerd.image.name"));
    }

    [Fact]
    public void CniConfig_BridgesTheNodeRangeWithoutMasquerade()
    {
        var config = JsonNode.Parse(CniConfig.Render("10.42.3.0/24", "/data/ipam"))!;
        var bridge = config["plugins"]![0]!;
        Assert.Equal("bridge", bridge["type"]!.GetValue<string>());
        Assert.False(bridge["ipMasq"]!.GetValue<bool>());
        Assert.Equal("10.42.3.1", bridge["ipam"]!["ranges"]![0]![0]!["gateway"]!.GetValue<string>());
        Assert.Equal(["bridge", "portmap", "loopback"], config["plugins"]!.AsArray().Select(p => p!["type"]!.GetValue<string>()));
    }
}
