namespace Lotse.Testing;

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
            await HostCommands.RunAsync("ip", "link", "del", Lotse.Agent.Kubelet.CniConfig.Bridge);
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

