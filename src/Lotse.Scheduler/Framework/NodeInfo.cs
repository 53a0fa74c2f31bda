using k8s.Models;
using Lotse.Client.Images;

namespace Lotse.Scheduler.Framework;

/// <summary>A node as the scheduler sees it: what it can hold, what its pods (bound or assumed) already ask for, and their host ports.</summary>
public sealed class NodeInfo(V1Node node)
{
    private readonly Dictionary<string, PodInfo> _pods = new(StringComparer.Ordinal);

    private V1Node _node = node;

    /// <summary>The node object; setting it re-reads what it can hold (quantities are parsed once, not per pod).</summary>
    public V1Node Node
    {
        get => _node;
        set
        {
            _node = value;
            Allocatable = Resources.From(value.Status?.Allocatable ?? value.Status?.Capacity);
            Images = ImagesOf(value);
        }
    }

    public string Name => Node.Metadata.Name;

    public Resources Allocatable { get; private set; } = Resources.From(node.Status?.Allocatable ?? node.Status?.Capacity);

    public Resources Requested { get; private set; } = Resources.Zero;

    /// <summary>CPU the pods ask for when scoring (kube's NonZeroRequested: a pod without a request counts 100m).</summary>
    public long NonZeroMilliCpu { get; private set; }

    /// <summary>Memory the pods ask for when scoring (a pod without a request counts 200 MiB).</summary>
    public long NonZeroMemory { get; private set; }

    public HashSet<(string Ip, string Protocol, int Port)> UsedPorts { get; } = [];

    /// <summary>The images the node reports (status.images), by normalized name, with their size.</summary>
    public IReadOnlyDictionary<string, long> Images { get; private set; } = ImagesOf(node);

    /// <summary>The node's pods that have pod affinity or anti-affinity terms (kube's PodsWithAffinity).</summary>
    public List<PodInfo> PodsWithAffinity { get; } = [];

    /// <summary>The node's pods with required anti-affinity terms, which may keep other pods away.</summary>
    public List<PodInfo> PodsWithRequiredAntiAffinity { get; } = [];

    public string? Label(string key) => Node.Metadata.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    public int PodCount => _pods.Count;

    public IEnumerable<PodInfo> Pods => _pods.Values;

    public void Add(PodInfo pod)
    {
        if (_pods.TryAdd(pod.Key, pod))
        {
            Requested = Requested.Plus(pod.Requests);
            NonZeroMilliCpu += pod.NonZeroMilliCpu;
            NonZeroMemory += pod.NonZeroMemory;
            foreach (var port in pod.HostPorts)
            {
                UsedPorts.Add(port);
            }

            if (pod.HasAffinity)
            {
                PodsWithAffinity.Add(pod);
            }

            if (pod.HasRequiredAntiAffinity)
            {
                PodsWithRequiredAntiAffinity.Add(pod);
            }
        }
    }

    public void Remove(string podKey)
    {
        if (_pods.Remove(podKey, out var pod))
        {
            Requested = Requested.Minus(pod.Requests);
            NonZeroMilliCpu -= pod.NonZeroMilliCpu;
            NonZeroMemory -= pod.NonZeroMemory;
            foreach (var port in pod.HostPorts)
            {
                UsedPorts.Remove(port);
            }

            PodsWithAffinity.Remove(pod);
            PodsWithRequiredAntiAffinity.Remove(pod);
        }
    }

    private static Dictionary<string, long> ImagesOf(V1Node node)
    {
        var images = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var image in node.Status?.Images ?? [])
        {
            foreach (var name in image.Names ?? [])
            {
                images[ImageReference.Normalize(name)] = image.SizeBytes ?? 0;
            }
        }

        return images;
    }
}
