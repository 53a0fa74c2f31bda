using k8s.Models;
using Lotse.Client.Images;

namespace Lotse.Scheduler.Framework;

/// <summary>
/// What the scheduler needs of a pod, computed once: its requests as Kubernetes computes them —
/// the sum of the containers (a limit without a request counts as the request), or the largest
/// init container if that is more, plus the pod overhead — and its host ports.
/// </summary>
public sealed class PodInfo
{
    public PodInfo(V1Pod pod)
    {
        Pod = pod;
        Key = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
        var containers = Resources.Zero;
        foreach (var container in pod.Spec?.Containers ?? [])
        {
            containers = containers.Plus(ContainerRequests(container));
        }

        var init = Resources.Zero;
        foreach (var container in pod.Spec?.InitContainers ?? [])
        {
            init = init.Max(ContainerRequests(container));
        }

        Requests = containers.Max(init).Plus(Resources.From(pod.Spec?.Overhead)) with { Pods = 1 };
        NonZeroMilliCpu = Requests.MilliCpu == 0 ? DefaultMilliCpu : Requests.MilliCpu;
        NonZeroMemory = Requests.Memory == 0 ? DefaultMemory : Requests.Memory;
        HostPorts = [.. (pod.Spec?.Containers ?? []).SelectMany(c => c.Ports ?? []).Where(p => p.HostPort is > 0).Select(p => (p.HostIP ?? "0.0.0.0", p.Protocol ?? "TCP", p.HostPort!.Value))];
        Claims = [.. (pod.Spec?.Volumes ?? []).Select(v => v.PersistentVolumeClaim?.ClaimName).OfType<string>()];
        var affinity = pod.Spec?.Affinity;
        HasAffinity = affinity?.PodAffinity is not null || affinity?.PodAntiAffinity is not null;
        HasRequiredAntiAffinity = affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { Count: > 0 };
    }

    /// <summary>What scoring counts for a pod without requests (kube's non-zero defaults), so such pods spread.</summary>
    public const long DefaultMilliCpu = 100;

    public const long DefaultMemory = 200L * 1024 * 1024;

    public V1Pod Pod { get; }

    public long NonZeroMilliCpu { get; }

    public long NonZeroMemory { get; }

    public string Key { get; }

    public Resources Requests { get; }

    public IReadOnlyList<(string Ip, string Protocol, int Port)> HostPorts { get; }

    /// <summary>The images of its containers and init containers, normalized.</summary>
    public IReadOnlyList<string> Images => _images ??= [.. (Pod.Spec?.InitContainers ?? []).Concat(Pod.Spec?.Containers ?? []).Select(c => c.Image).OfType<string>().Select(ImageReference.Normalize)];

    private List<string>? _images;

    /// <summary>Whether the pod has pod affinity or anti-affinity terms (others' placement then depends on it).</summary>
    public bool HasAffinity { get; }

    public bool HasRequiredAntiAffinity { get; }

    /// <summary>What plugins worked out for this scheduling attempt (kube's CycleState), by plugin.</summary>
    public Dictionary<string, object> State => _state ??= new Dictionary<string, object>(StringComparer.Ordinal);

    private Dictionary<string, object>? _state;

    /// <summary>Forgets the attempt's state once the pod is placed (the placed pod stays in the node's list).</summary>
    public void ClearState() => _state = null;

    /// <summary>The PersistentVolumeClaims the pod mounts, by name.</summary>
    public IReadOnlyList<string> Claims { get; }

    private static Resources ContainerRequests(V1Container container)
    {
        var requests = container.Resources?.Requests is { } r ? new Dictionary<string, ResourceQuantity>(r) : new Dictionary<string, ResourceQuantity>();
        foreach (var (name, limit) in container.Resources?.Limits ?? new Dictionary<string, ResourceQuantity>())
        {
            requests.TryAdd(name, limit);
        }

        return Resources.From(requests);
    }
}
