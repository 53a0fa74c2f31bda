using System.Diagnostics;
using System.Globalization;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Images;

namespace Lotse.E2E.Tests;

/// <summary>
/// A real <c>lotse server</c> with its node agent: containerd from the system package, the pause
/// image the agent builds, and a busybox image the fixture builds from Debian's busybox-static
/// (no registry, no internet). Before anything starts, a network guard makes sure no pod packet
/// can leave the machine; afterwards every pod, container, bridge, route and table it made is
/// removed, also when a test failed.
/// </summary>
public sealed class NodeAgentFixture : IAsyncLifetime
{
    public const string NodeName = "e2e-node";
    public const string Busybox = "lotse.test/busybox:1";
    private HostState? _host;

    public LotseServerProcess Server { get; } = new(agent: true);

    public NetworkGuard Guard { get; } = new();

    /// <summary>Why the node-agent tests cannot run on this machine (null when they can).</summary>
    public static string? Missing =>
        !OperatingSystem.IsLinux() || Environment.UserName != "root" ? "the node agent needs root on Linux"
        : new[] { "/usr/bin/containerd", "/usr/sbin/runc", "/usr/bin/catatonit", "/bin/busybox", "/usr/lib/cni/bridge" }.FirstOrDefault(f => !File.Exists(f)) is { } absent
            ? $"{absent} is not installed (scripts/deps.sh installs it)"
            : null;

    public string ContainerdSocket => Path.Combine(Server.DataDir, "agent", "containerd", "containerd.sock");

    public string ContainerdPidFile => Path.Combine(Server.DataDir, "agent", "containerd", "containerd.pid");

    public async Task InitializeAsync()
    {
        if (Missing is not null)
        {
            return;
        }

        _host = HostState.Capture();
        await Guard.InstallAsync();
        await WriteBusyboxAsync(Server.DataDir);
        await Server.StartAsync("--node-name", NodeName);
    }

    public Kubectl Kubectl()
    {
        var cache = Path.Combine(Server.DataDir, "kubectl-cache-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(cache);
        return new Kubectl(E2E.Tests.Kubectl.PathOf("1.33"), Server.Kubeconfig, cache);
    }

    public CriClient Cri() => new(ContainerdSocket);

    public async Task DisposeAsync()
    {
        if (Missing is not null)
        {
            await Server.DisposeAsync();
            return;
        }

        try
        {
            // Pods first, through the API: the agent stops and removes their containers and sandboxes.
            await Kubectl().RunAsync("delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--timeout=60s");
            await RemoveLeftoverSandboxesAsync();
        }
        finally
        {
            await Server.StopAsync();
            UnmountUnder(Server.DataDir);
            await Server.DisposeAsync();
            if (_host is not null)
            {
                await _host.RestoreAsync();
            }

            await Guard.DisposeAsync();
        }
    }

    /// <summary>Puts the busybox image where a node agent with this data dir imports it at start.</summary>
    public static async Task WriteBusyboxAsync(string dataDir)
    {
        var images = Path.Combine(dataDir, "agent", "images");
        Directory.CreateDirectory(images);
        await using var archive = File.Create(Path.Combine(images, "busybox.tar"));
        BusyboxImage().WriteArchive(archive);
    }

    /// <summary>busybox-static as a one-layer image: /bin/busybox, a link per applet, /etc/passwd and /etc/group.</summary>
    public static OciImage BusyboxImage()
    {
        var image = new OciImage(Busybox) { Cmd = ["/bin/sh"] }
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

    private async Task RemoveLeftoverSandboxesAsync()
    {
        if (!File.Exists(ContainerdSocket))
        {
            return;
        }

        using var cri = Cri();
        var sandboxes = await cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        foreach (var sandbox in sandboxes.Items)
        {
            await cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id });
            await cri.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox.Id });
        }
    }

    /// <summary>Whatever containerd left mounted under the data dir (after a crash), deepest first.</summary>
    internal static void UnmountUnder(string directory)
    {
        var mounts = File.ReadAllLines("/proc/self/mounts")
            .Select(l => l.Split(' ')[1].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length);
        foreach (var mount in mounts)
        {
            RunAsync("umount", "-l", mount).GetAwaiter().GetResult();
        }
    }

    internal static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (output + error).Trim());
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// What a node agent changes on the host outside its data dir, captured before a test and put back
/// after: the CNI bridge, ip_forward (the bridge plugin turns it on), the QoS cgroups runc creates
/// under <c>/kubepods</c>, <c>/run/containerd</c> (shim sockets) and libcni's cached results.
/// </summary>
public sealed class HostState
{
    private string _ipForward = "0";
    private bool _bridgeExisted;
    private bool _kubepodsExisted;
    private bool _runContainerdExisted;

    public static HostState Capture() => new()
    {
        _ipForward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim(),
        _bridgeExisted = Directory.Exists("/sys/class/net/" + Lotse.Agent.Kubelet.CniConfig.Bridge),
        _kubepodsExisted = Directory.Exists("/sys/fs/cgroup/memory/kubepods"),
        _runContainerdExisted = Directory.Exists("/run/containerd"),
    };

    public async Task RestoreAsync()
    {
        if (!_bridgeExisted)
        {
            await NodeAgentFixture.RunAsync("ip", "link", "del", Lotse.Agent.Kubelet.CniConfig.Bridge);
        }

        foreach (var result in Directory.Exists("/var/lib/cni/results") ? Directory.GetFiles("/var/lib/cni/results", "lotse-*") : [])
        {
            File.Delete(result);
        }

        if (!_kubepodsExisted)
        {
            RemoveKubepodsCgroups();
        }

        if (!_runContainerdExisted)
        {
            // Shim sockets live here whatever containerd's state dir says; empty once the shims are gone.
            foreach (var directory in new[] { "/run/containerd/s", "/run/containerd" })
            {
                try
                {
                    Directory.Delete(directory);
                }
                catch (IOException)
                {
                }
            }
        }

        await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", _ipForward);
    }

    /// <summary>The QoS-level cgroups (<c>/kubepods/besteffort</c>, …) runc created under every v1 controller for the pods.</summary>
    private static void RemoveKubepodsCgroups()
    {
        foreach (var controller in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            var kubepods = Path.Combine(controller, "kubepods");
            if (!Directory.Exists(kubepods))
            {
                continue;
            }

            foreach (var group in Directory.GetDirectories(kubepods).Append(kubepods))
            {
                try
                {
                    Directory.Delete(group);
                }
                catch (IOException)
                {
                    // Still in use: left for whoever uses it.
                }
            }
        }
    }

}

/// <summary>
/// Keeps test traffic on this machine: the pod and service ranges get local catch-all routes (so
/// unrouted cluster addresses never follow the default route), and nftables drops anything
/// forwarded out of the uplink and any packet for a private range leaving through it (except the
/// machine's DNS resolvers). Removed on dispose; routes that were there before stay.
/// </summary>
public sealed class NetworkGuard : IAsyncDisposable
{
    private const string Table = "lotse_e2e_guard";
    private readonly List<string[]> _undo = [];

    public async Task InstallAsync()
    {
        var (_, route) = await NodeAgentFixture.RunAsync("ip", "-4", "route", "show", "default");
        var fields = route.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var dev = Array.IndexOf(fields, "dev");
        var uplink = dev >= 0 && dev + 1 < fields.Length ? fields[dev + 1] : null;
        if (uplink is not null)
        {
            var resolvers = File.Exists("/etc/resolv.conf")
                ? File.ReadLines("/etc/resolv.conf").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 1 && f[0] == "nameserver" && System.Net.IPAddress.TryParse(f[1], out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Select(f => f[1]).ToList()
                : [];
            var except = resolvers.Count > 0 ? $"ip daddr != {{ {string.Join(", ", resolvers)} }}" : string.Empty;
            const string Private = "{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16 }";
            var rules = $$"""
                table inet {{Table}} {
                  chain output {
                    type filter hook output priority -300; policy accept;
                    oifname "{{uplink}}" ip daddr {{Private}} {{except}} drop
                  }
                  chain forward {
                    type filter hook forward priority -300; policy accept;
                    oifname "{{uplink}}" drop
                  }
                }
                """;
            var file = Path.GetTempFileName();
            await File.WriteAllTextAsync(file, rules);
            var (code, output) = await NodeAgentFixture.RunAsync("nft", "-f", file);
            File.Delete(file);
            if (code != 0)
            {
                throw new InvalidOperationException($"network guard: nft failed: {output}");
            }

            _undo.Add(["nft", "delete", "table", "inet", Table]);
        }

        foreach (var range in new[] { "10.42.0.0/16", "10.43.0.0/16" })
        {
            var (_, existing) = await NodeAgentFixture.RunAsync("ip", "-4", "route", "show", range);
            if (existing.Length == 0)
            {
                var (code, output) = await NodeAgentFixture.RunAsync("ip", "route", "add", "unreachable", range);
                if (code != 0)
                {
                    throw new InvalidOperationException($"network guard: route for {range} failed: {output}");
                }

                _undo.Add(["ip", "route", "del", "unreachable", range]);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in Enumerable.Reverse(_undo))
        {
            await NodeAgentFixture.RunAsync(command[0], command[1..]);
        }

        _undo.Clear();
    }
}
