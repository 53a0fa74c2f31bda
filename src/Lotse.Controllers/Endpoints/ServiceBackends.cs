using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Endpoints;

/// <summary>One pod behind a service: its address, where it runs, and the conditions kube-proxy reads.</summary>
public sealed record Backend(V1Pod Pod, string Ip, bool Ready, bool Serving, bool Terminating);

/// <summary>A service port resolved against one pod (a named targetPort is looked up in the pod's containers).</summary>
public sealed record BackendPort(string? Name, int Port, string Protocol, string? AppProtocol);

/// <summary>
/// What the Endpoints and EndpointSlice controllers both compute (kube's endpoints utilities): the
/// pods a service selects that have an IP and are not finished, with ready/serving/terminating,
/// grouped by the port list they resolve to.
/// </summary>
public static class ServiceBackends
{
    public static bool Selects(V1Service service, V1Pod pod) =>
        service.Spec?.Selector is { Count: > 0 } selector && pod.Metadata.Labels is { } labels
        && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);

    /// <summary>The keys of the services in the pod's namespace that select it.</summary>
    public static IEnumerable<string> ServicesSelecting(Informer<V1Service> services, V1Pod pod) =>
        services.ByNamespace(pod.Metadata.NamespaceProperty).Where(s => Selects(s, pod)).Select(ObjectKey.Of);

    /// <summary>Services with a selector are managed; those without are left to their owner (kube's rule).</summary>
    public static bool IsManaged(V1Service service) => service.Spec?.Selector is { Count: > 0 } && service.Spec.Type != "ExternalName";

    public static List<(List<BackendPort> Ports, List<Backend> Backends)> Group(V1Service service, IEnumerable<V1Pod> pods, bool includeTerminating)
    {
        var publishNotReady = service.Spec?.PublishNotReadyAddresses == true;
        var groups = new Dictionary<string, (List<BackendPort> Ports, List<Backend> Backends)>(StringComparer.Ordinal);
        foreach (var pod in pods.Where(p => Selects(service, p)))
        {
            var ip = pod.Status?.PodIP;
            if (string.IsNullOrEmpty(ip) || pod.Status?.Phase is "Succeeded" or "Failed")
            {
                continue;
            }

            var terminating = pod.Metadata.DeletionTimestamp is not null;
            if (terminating && !includeTerminating && !publishNotReady)
            {
                continue;
            }

            var podReady = PodStates.IsReady(pod);
            var backend = new Backend(pod, ip, Ready: publishNotReady || (podReady && !terminating), Serving: publishNotReady || podReady, Terminating: terminating);
            var ports = Resolve(service, pod);
            var key = string.Join(',', ports.Select(p => $"{p.Name}/{p.Port}/{p.Protocol}/{p.AppProtocol}"));
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = (ports, []);
            }

            group.Backends.Add(backend);
        }

        foreach (var group in groups.Values)
        {
            group.Backends.Sort((a, b) => string.CompareOrdinal(a.Ip, b.Ip));
        }

        return [.. groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Value)];
    }

    private static List<BackendPort> Resolve(V1Service service, V1Pod pod)
    {
        var ports = new List<BackendPort>();
        foreach (var port in service.Spec?.Ports ?? [])
        {
            var protocol = port.Protocol ?? "TCP";
            var target = port.TargetPort?.Value;
            int? number = target is null ? port.Port : int.TryParse(target, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : FindNamed(pod, target, protocol);
            if (number is { } resolved)
            {
                ports.Add(new BackendPort(port.Name, resolved, protocol, port.AppProtocol));
            }
        }

        return ports;
    }

    private static int? FindNamed(V1Pod pod, string name, string protocol) =>
        (pod.Spec?.Containers ?? []).SelectMany(c => c.Ports ?? []).FirstOrDefault(p => p.Name == name && (p.Protocol ?? "TCP") == protocol)?.ContainerPort;
}
