using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Lotse.Agent.Images;

/// <summary>
/// Builds a one-layer OCI image archive (an OCI image layout in a tar, what <c>ctr images
/// import</c> and <c>skopeo</c> read) from files on this host — how the agent makes its pause
/// image from the static <c>catatonit</c> binary on a machine with no registry access, and how the
/// tests make a busybox image from Debian's <c>busybox-static</c>. The output is deterministic:
/// the same inputs give the same digests.
/// </summary>
public sealed class OciImage
{
    private readonly List<(string Path, byte[]? Content, string? LinkTarget, UnixFileMode Mode)> _entries = [];

    /// <param name="reference">A full image reference (<c>docker.io/library/busybox:1</c>), or only a tag to name on import (<c>ctr images import --base-name</c>).</param>
    public OciImage(string reference)
    {
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        Tag = colon > slash ? reference[(colon + 1)..] : reference;
        Reference = slash >= 0 ? reference : null;
    }

    /// <summary>The tag written as the image's <c>org.opencontainers.image.ref.name</c>.</summary>
    public string Tag { get; }

    /// <summary>The full reference (containerd's <c>io.containerd.image.name</c>), when one was given.</summary>
    public string? Reference { get; }

    public IReadOnlyList<string> Entrypoint { get; init; } = [];

    public IReadOnlyList<string> Cmd { get; init; } = [];

    public IReadOnlyList<string> Env { get; init; } = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    public OciImage AddFile(string imagePath, byte[] content, UnixFileMode mode = (UnixFileMode)0b111_101_101)
    {
        _entries.Add((imagePath.TrimStart('/'), content, null, mode));
        return this;
    }

    public OciImage AddHostFile(string imagePath, string hostPath) => AddFile(imagePath, File.ReadAllBytes(hostPath));

    public OciImage AddSymlink(string imagePath, string target)
    {
        _entries.Add((imagePath.TrimStart('/'), null, target, (UnixFileMode)0b111_111_111));
        return this;
    }

    /// <summary>Writes the image as an OCI layout tar archive.</summary>
    public void WriteArchive(Stream output)
    {
        var layerTar = BuildLayer();
        var diffId = Digest(layerTar);
        byte[] layer;
        using (var compressed = new MemoryStream())
        {
            using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                gzip.Write(layerTar);
            }

            layer = compressed.ToArray();
        }

        var architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            _ => "amd64",
        };
        var config = Json(new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                [nameof(Env)] = Array(Env),
                [nameof(Entrypoint)] = Entrypoint.Count > 0 ? Array(Entrypoint) : null,
                [nameof(Cmd)] = Cmd.Count > 0 ? Array(Cmd) : null,
                ["WorkingDir"] = "/",
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
        });
        var manifest = Json(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", config),
            ["layers"] = new JsonArray(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)),
        });
        var manifestDescriptor = Descriptor("application/vnd.oci.image.manifest.v1+json", manifest);
        manifestDescriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = Tag };
        if (Reference is not null)
        {
            manifestDescriptor["annotations"]!["io.containerd.image.name"] = Reference;
        }

        var index = Json(new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(manifestDescriptor) });

        using var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
        Write(writer, "oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
        Write(writer, "index.json", index);
        Directory(writer, "blobs/");
        Directory(writer, "blobs/sha256/");
        foreach (var blob in new[] { config, manifest, layer })
        {
            Write(writer, "blobs/sha256/" + Digest(blob)["sha256:".Length..], blob);
        }
    }

    private byte[] BuildLayer()
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var entry in _entries)
            {
                for (var slash = entry.Path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = entry.Path.IndexOf('/', slash + 1))
                {
                    directories.Add(entry.Path[..(slash + 1)]);
                }
            }

            foreach (var directory in directories)
            {
                Directory(writer, directory);
            }

            foreach (var entry in _entries.OrderBy(e => e.Path, StringComparer.Ordinal))
            {
                if (entry.LinkTarget is { } target)
                {
                    writer.WriteEntry(Stamp(new UstarTarEntry(TarEntryType.SymbolicLink, entry.Path) { LinkName = target, Mode = entry.Mode }));
                }
                else
                {
                    Write(writer, entry.Path, entry.Content!, entry.Mode);
                }
            }
        }

        return stream.ToArray();
    }

    private static void Directory(TarWriter writer, string path) =>
        writer.WriteEntry(Stamp(new UstarTarEntry(TarEntryType.Directory, path) { Mode = (UnixFileMode)0b111_101_101 }));

    private static void Write(TarWriter writer, string path, byte[] content, UnixFileMode mode = (UnixFileMode)0b110_100_100)
    {
        var entry = Stamp(new UstarTarEntry(TarEntryType.RegularFile, path) { Mode = mode, DataStream = new MemoryStream(content) });
        writer.WriteEntry(entry);
    }

    private static UstarTarEntry Stamp(UstarTarEntry entry)
    {
        entry.ModificationTime = DateTimeOffset.UnixEpoch;
        entry.Uid = 0;
        entry.Gid = 0;
        return entry;
    }

    private static JsonObject Descriptor(string mediaType, byte[] content) =>
        new() { ["mediaType"] = mediaType, ["digest"] = Digest(content), ["size"] = content.Length };

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

    private static byte[] Json(JsonObject value) => Encoding.UTF8.GetBytes(value.ToJsonString());

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
