namespace Lotse.Agent.Kubelet;

/// <summary>
/// The pod-level cgroups under <c>/kubepods/&lt;qos&gt;/pod&lt;uid&gt;</c> (cgroup v1, cgroupfs): runc
/// creates them with the first container, but nothing removes them — the agent does, as the
/// kubelet does, once the pod's containers are gone.
/// </summary>
internal static class PodCgroups
{
    private const string Root = "/sys/fs/cgroup";

    public static void Remove(string uid)
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        foreach (var controller in Directory.EnumerateDirectories(Root))
        {
            foreach (var qos in new[] { "guaranteed", "burstable", "besteffort" })
            {
                var path = Path.Combine(controller, "kubepods", qos, "pod" + uid);
                if (!Directory.Exists(path))
                {
                    continue;
                }

                try
                {
                    // cgroupfs: rmdir of the (empty) group; its control files are not real files.
                    Directory.Delete(path);
                }
                catch (IOException)
                {
                    // Still busy (a container not yet reaped): the next removal tries again.
                }
            }
        }
    }
}
