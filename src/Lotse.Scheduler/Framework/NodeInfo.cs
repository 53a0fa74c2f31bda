using k8s.Models;

namespace Lotse.Scheduler.Framework;

/// <summary>A node as the scheduler sees it: what it can hold, what its pods (bound or assumed) already ask for, and their host ports.</summary>
public sealed class NodeInfo(V1Node node)
{
    private readonly Dictionary<string, PodInfo> _pods = new(StringComparer.Ordinal);

    public V1Node Node { get; set; } = node;

    public string Name => Node.Metadata.Name;

    public Resources Allocatable => Resources.From(Node.Status?.Allocatable ?? Node.Status?.Capacity);

    public Resources Requested { get; private set; } = Resources.Zero;

    /// <summary>What the pods ask for when scoring: a pod without requests counts 100m cpu and 200 MiB (kube's NonZeroRequested).</summary>
    public Resources NonZeroRequested { get; private set; } = Resources.Zero;

    public HashSet<(string Ip, string Protocol, int Port)> UsedPorts { get; } = [];

    public int PodCount => _pods.Count;

    public IEnumerable<PodInfo> Pods => _pods.Values;

    public void Add(PodInfo pod)
    {
        if (_pods.TryAdd(pod.Key, pod))
        {
            Requested = Requested.Plus(pod.Requests);
            NonZeroRequested = NonZeroRequested.Plus(NonZero(pod.Requests));
            foreach (var port in pod.HostPorts)
            {
                UsedPorts.Add(port);
            }
        }
    }

    public void Remove(string podKey)
    {
        if (_pods.Remove(podKey, out var pod))
        {
            Requested = Requested.Minus(pod.Requests);
            NonZeroRequested = NonZeroRequested.Minus(NonZero(pod.Requests));
            foreach (var port in pod.HostPorts)
            {
                UsedPorts.Remove(port);
            }
        }
    }

    /// <summary>A pod without requests still counts as 100m cpu and 200 MiB when scoring, so such pods spread (kube's non-zero defaults).</summary>
    public static Resources NonZero(Resources requests) => requests with
    {
        MilliCpu = requests.MilliCpu == 0 ? 100 : requests.MilliCpu,
        Memory = requests.Memory == 0 ? 200L * 1024 * 1024 : requests.Memory,
    };
}
