using System.Diagnostics;
using Lotse.Agent.Images;

namespace Lotse.Testing;

/// <summary>Images for tests and benchmarks, made on this machine (no registry, no internet).</summary>
public static class TestImages
{
    public const string BusyboxReference = "lotse.test/busybox:1";

    /// <summary>Why containers cannot run here (null when they can): root and the packages scripts/deps.sh installs.</summary>
    public static string? Missing =>
        !OperatingSystem.IsLinux() || Environment.UserName != "root" ? "the node agent needs root on Linux"
        : new[] { "/usr/bin/containerd", "/usr/sbin/runc", "/usr/bin/catatonit", "/bin/busybox", "/usr/lib/cni/bridge" }.FirstOrDefault(f => !File.Exists(f)) is { } absent
            ? $"{absent} is not installed (scripts/deps.sh installs it)"
            : null;

    /// <summary>busybox-static as a one-layer image: /bin/busybox, a link per applet, /etc/passwd and /etc/group.</summary>
    public static OciImage Busybox()
    {
        var image = new OciImage(BusyboxReference) { Cmd = ["/bin/sh"] }
            .AddHostFile("bin/busybox", "/bin/busybox")
            .AddFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"u8.ToArray(), (UnixFileMode)0b110_100_100)
            .AddFile("etc/group", "root:x:0:\nnogroup:x:65534:\n"u8.ToArray(), (UnixFileMode)0b110_100_100);
        using var list = Process.Start(new ProcessStartInfo("/bin/busybox", "--list") { RedirectStandardOutput = true })!;
        foreach (var applet in list.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (applet != "busybox")
            {
                image.AddSymlink("bin/" + applet, "busybox");
            }
        }

        list.WaitForExit();
        return image;
    }

    /// <summary>Puts the busybox image where a node agent with this data dir imports it at start.</summary>
    public static async Task WriteBusyboxAsync(string dataDir)
    {
        var images = Path.Combine(dataDir, "agent", "images");
        Directory.CreateDirectory(images);
        await using var archive = File.Create(Path.Combine(images, "busybox.tar"));
        Busybox().WriteArchive(archive);
    }
}
