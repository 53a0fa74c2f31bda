using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.NodePorts;

/// <summary>A host port (with its protocol) may be used once per node; 0.0.0.0 conflicts with every address.</summary>
public sealed class NodePorts : IFilterPlugin
{
    public string Name => "NodePorts";

    public string? Filter(PodInfo pod, NodeInfo node)
    {
        if (pod.HostPorts.Count == 0)
        {
            return null; // most pods: no enumerator allocated per node
        }

        foreach (var (ip, protocol, port) in pod.HostPorts)
        {
            if (node.UsedPorts.Any(u => u.Port == port && u.Protocol == protocol && (u.Ip == ip || u.Ip == "0.0.0.0" || ip == "0.0.0.0")))
            {
                return "node(s) didn't have free ports for the requested pod ports";
            }
        }

        return null;
    }
}
