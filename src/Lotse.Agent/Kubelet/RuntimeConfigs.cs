using System.Globalization;
using System.Text;
using k8s.Models;
using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// Translates a pod into CRI sandbox and container configurations the way the kubelet does: the
/// CRI labels it finds its objects by, the pod's cgroup under <c>/kubepods/&lt;qos&gt;/pod&lt;uid&gt;</c>,
/// namespaces, hostPorts, DNS, environment with <c>$(VAR)</c> expansion, resources and the
/// security context.
/// </summary>
internal static class RuntimeConfigs
{
    public const string PodNameLabel = "io.kubernetes.pod.name";
    public const string PodNamespaceLabel = "io.kubernetes.pod.namespace";
    public const string PodUidLabel = "io.kubernetes.pod.uid";
    public const string ContainerNameLabel = "io.kubernetes.container.name";
    private const long CpuPeriod = 100_000;

    public static string CgroupParent(V1Pod pod) => $"/kubepods/{QosClass(pod).ToLowerInvariant()}/pod{pod.Metadata.Uid}";

    public static string LogDirectory(string podLogRoot, V1Pod pod) =>
        Path.Combine(podLogRoot, $"{pod.Metadata.NamespaceProperty}_{pod.Metadata.Name}_{pod.Metadata.Uid}");

    public static PodSandboxConfig Sandbox(V1Pod pod, uint attempt, string podLogRoot, string clusterDomain, DNSConfig hostDns)
    {
        var spec = pod.Spec;
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = pod.Metadata.Name, Namespace = pod.Metadata.NamespaceProperty, Uid = pod.Metadata.Uid, Attempt = attempt },
            Hostname = spec.HostNetwork == true ? string.Empty : Hostname(pod),
            LogDirectory = LogDirectory(podLogRoot, pod),
            DnsConfig = Dns(pod, hostDns, clusterDomain),
            Linux = new LinuxPodSandboxConfig
            {
                CgroupParent = CgroupParent(pod),
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = Namespaces(spec),
                    Privileged = spec.Containers.Concat(spec.InitContainers ?? []).Any(c => c.SecurityContext?.Privileged == true),
                },
            },
        };
        if (spec.SecurityContext?.RunAsUser is { } user)
        {
            config.Linux.SecurityContext.RunAsUser = new Int64Value { Value = user };
        }

        if (spec.SecurityContext?.SupplementalGroups is { } groups)
        {
            config.Linux.SecurityContext.SupplementalGroups.AddRange(groups.OfType<long>());
        }

        foreach (var port in spec.Containers.SelectMany(c => c.Ports ?? []).Where(p => p.HostPort is > 0))
        {
            config.PortMappings.Add(new PortMapping
            {
                Protocol = port.Protocol switch { "UDP" => Protocol.Udp, "SCTP" => Protocol.Sctp, _ => Protocol.Tcp },
                ContainerPort = port.ContainerPort,
                HostPort = port.HostPort!.Value,
                HostIp = port.HostIP ?? string.Empty,
            });
        }

        AddPodLabels(config.Labels, pod);
        foreach (var (key, value) in pod.Metadata.Labels ?? new Dictionary<string, string>())
        {
            config.Labels.TryAdd(key, value);
        }

        foreach (var (key, value) in pod.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            config.Annotations[key] = value;
        }

        return config;
    }

    /// <param name="env">The container's environment, resolved (see <see cref="Environment"/>).</param>
    public static ContainerConfig Container(V1Pod pod, V1Container container, uint attempt, IReadOnlyList<KeyValuePair<string, string>> env, string image, IEnumerable<Mount>? mounts = null)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = container.Name, Attempt = attempt },
            Image = new ImageSpec { Image = image },
            WorkingDir = container.WorkingDir ?? string.Empty,
            LogPath = Path.Combine(container.Name, $"{attempt}.log"),
            Stdin = container.Stdin == true,
            StdinOnce = container.StdinOnce == true,
            Tty = container.Tty == true,
            Linux = new LinuxContainerConfig
            {
                Resources = Resources(pod, container),
                SecurityContext = SecurityContext(pod, container),
            },
        };
        var variables = env.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        config.Command.AddRange((container.Command ?? []).Select(c => Expand(c, variables)));
        config.Args.AddRange((container.Args ?? []).Select(a => Expand(a, variables)));
        config.Envs.AddRange(env.Select(e => new Cri.V1.KeyValue { Key = e.Key, Value = e.Value }));
        config.Mounts.AddRange(mounts ?? []);
        AddPodLabels(config.Labels, pod);
        config.Labels[ContainerNameLabel] = container.Name;
        return config;
    }

    /// <summary>
    /// The container's environment in order: <c>envFrom</c> sources, then <c>env</c>, values
    /// expanded against what came before (<c>$(VAR)</c>; <c>$$</c> escapes). References the agent
    /// cannot resolve come back in <paramref name="missing"/>.
    /// </summary>
    public static List<KeyValuePair<string, string>> Environment(V1Pod pod, V1Container container, string nodeIp, string podIp, Func<string, string, string, string?> configMapKey, Func<string, string, string, string?> secretKey, Func<string, IReadOnlyDictionary<string, string>?> configMap, Func<string, IReadOnlyDictionary<string, string>?> secret, List<string> missing)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string name, string value)
        {
            if (!values.ContainsKey(name))
            {
                order.Add(name);
            }

            values[name] = value;
        }

        foreach (var source in container.EnvFrom ?? [])
        {
            var data = source.ConfigMapRef is { } cm ? configMap(cm.Name) : source.SecretRef is { } s ? secret(s.Name) : null;
            if (data is null)
            {
                if (source.ConfigMapRef?.Optional != true && source.SecretRef?.Optional != true)
                {
                    missing.Add(source.ConfigMapRef is { } m ? $"configmap \"{m.Name}\" not found" : $"secret \"{source.SecretRef?.Name}\" not found");
                }

                continue;
            }

            foreach (var (key, value) in data)
            {
                Set((source.Prefix ?? string.Empty) + key, value);
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            string? value;
            if (variable.ValueFrom is null)
            {
                value = Expand(variable.Value ?? string.Empty, values);
            }
            else if (variable.ValueFrom.FieldRef is { } field)
            {
                value = FieldValue(pod, field.FieldPath, nodeIp, podIp);
            }
            else if (variable.ValueFrom.ResourceFieldRef is { } resource)
            {
                value = ResourceValue(pod, container, resource);
            }
            else if (variable.ValueFrom.ConfigMapKeyRef is { } cmKey)
            {
                value = configMapKey(pod.Metadata.NamespaceProperty, cmKey.Name, cmKey.Key);
                if (value is null && cmKey.Optional != true)
                {
                    missing.Add($"couldn't find key {cmKey.Key} in ConfigMap {pod.Metadata.NamespaceProperty}/{cmKey.Name}");
                }
            }
            else if (variable.ValueFrom.SecretKeyRef is { } secretRef)
            {
                value = secretKey(pod.Metadata.NamespaceProperty, secretRef.Name, secretRef.Key);
                if (value is null && secretRef.Optional != true)
                {
                    missing.Add($"couldn't find key {secretRef.Key} in Secret {pod.Metadata.NamespaceProperty}/{secretRef.Name}");
                }
            }
            else
            {
                value = null;
            }

            if (value is not null)
            {
                Set(variable.Name, value);
            }
        }

        return [.. order.Select(name => new KeyValuePair<string, string>(name, values[name]))];
    }

    /// <summary>Kubernetes' <c>$(VAR)</c> expansion: known variables are replaced, unknown ones left as written, <c>$$</c> is a literal <c>$</c>.</summary>
    public static string Expand(string input, IReadOnlyDictionary<string, string> variables)
    {
        if (!input.Contains('$', StringComparison.Ordinal))
        {
            return input;
        }

        var output = new StringBuilder(input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] != '$' || i + 1 >= input.Length)
            {
                output.Append(input[i]);
                continue;
            }

            if (input[i + 1] == '$')
            {
                output.Append('$');
                i++;
                continue;
            }

            if (input[i + 1] == '(')
            {
                var close = input.IndexOf(')', i + 2);
                if (close > 0)
                {
                    var name = input[(i + 2)..close];
                    output.Append(variables.TryGetValue(name, out var value) ? value : input[i..(close + 1)]);
                    i = close;
                    continue;
                }
            }

            output.Append('$');
        }

        return output.ToString();
    }

    public static string QosClass(V1Pod pod)
    {
        var containers = pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).ToList();
        static bool Empty(IDictionary<string, ResourceQuantity>? map) => map is null || map.Count == 0;
        if (containers.All(c => Empty(c.Resources?.Requests) && Empty(c.Resources?.Limits)))
        {
            return "BestEffort";
        }

        static bool Guaranteed(V1Container c, string resource) =>
            c.Resources?.Limits?.TryGetValue(resource, out var limit) == true
            && (c.Resources.Requests?.TryGetValue(resource, out var request) != true || request!.ToDecimal() == limit!.ToDecimal());
        return containers.All(c => Guaranteed(c, "cpu") && Guaranteed(c, "memory")) ? "Guaranteed" : "Burstable";
    }

    private static void AddPodLabels(IDictionary<string, string> labels, V1Pod pod)
    {
        labels[PodNameLabel] = pod.Metadata.Name;
        labels[PodNamespaceLabel] = pod.Metadata.NamespaceProperty;
        labels[PodUidLabel] = pod.Metadata.Uid;
    }

    private static string Hostname(V1Pod pod)
    {
        var name = pod.Spec.Hostname ?? pod.Metadata.Name;
        return name.Length > 63 ? name[..63].TrimEnd('-', '.') : name;
    }

    private static NamespaceOption Namespaces(V1PodSpec spec) => new()
    {
        Network = spec.HostNetwork == true ? NamespaceMode.Node : NamespaceMode.Pod,
        Pid = spec.HostPID == true ? NamespaceMode.Node : spec.ShareProcessNamespace == true ? NamespaceMode.Pod : NamespaceMode.Container,
        Ipc = spec.HostIPC == true ? NamespaceMode.Node : NamespaceMode.Pod,
    };

    /// <summary>DNS per dnsPolicy. Cluster DNS comes with the networking milestone; until then ClusterFirst uses the host's resolvers with the cluster's search path.</summary>
    private static DNSConfig Dns(V1Pod pod, DNSConfig host, string clusterDomain)
    {
        var policy = pod.Spec.DnsPolicy ?? "ClusterFirst";
        var dns = new DNSConfig();
        if (policy != "None")
        {
            dns.Servers.AddRange(host.Servers);
            if (policy is "ClusterFirst" or "ClusterFirstWithHostNet" && !(policy == "ClusterFirst" && pod.Spec.HostNetwork == true))
            {
                var ns = pod.Metadata.NamespaceProperty;
                dns.Searches.AddRange([$"{ns}.svc.{clusterDomain}", $"svc.{clusterDomain}", clusterDomain]);
                dns.Options.Add("ndots:5");
            }

            dns.Searches.AddRange(host.Searches.Where(s => !dns.Searches.Contains(s)));
        }

        if (pod.Spec.DnsConfig is { } custom)
        {
            dns.Servers.AddRange(custom.Nameservers ?? []);
            dns.Searches.AddRange((custom.Searches ?? []).Where(s => !dns.Searches.Contains(s)));
            foreach (var option in custom.Options ?? [])
            {
                var text = option.Value is null ? option.Name : $"{option.Name}:{option.Value}";
                dns.Options.Remove(dns.Options.FirstOrDefault(o => o.Split(':')[0] == option.Name));
                dns.Options.Add(text);
            }
        }

        return dns;
    }

    private static LinuxContainerResources Resources(V1Pod pod, V1Container container)
    {
        var resources = new LinuxContainerResources { CpuPeriod = CpuPeriod, CpuShares = 2 };
        var requests = container.Resources?.Requests;
        var limits = container.Resources?.Limits;
        if (requests?.TryGetValue("cpu", out var cpuRequest) == true || limits?.TryGetValue("cpu", out cpuRequest) == true)
        {
            resources.CpuShares = Math.Max(2, (long)(cpuRequest!.ToDecimal() * 1024));
        }

        if (limits?.TryGetValue("cpu", out var cpuLimit) == true)
        {
            resources.CpuQuota = Math.Max(1000, (long)(cpuLimit.ToDecimal() * CpuPeriod));
        }

        if (limits?.TryGetValue("memory", out var memory) == true)
        {
            resources.MemoryLimitInBytes = (long)memory.ToDecimal();
        }

        resources.OomScoreAdj = QosClass(pod) switch
        {
            "Guaranteed" => -997,
            "BestEffort" => 1000,
            _ => 500,
        };
        return resources;
    }

    private static LinuxContainerSecurityContext SecurityContext(V1Pod pod, V1Container container)
    {
        var podContext = pod.Spec.SecurityContext;
        var context = container.SecurityContext;
        var result = new LinuxContainerSecurityContext
        {
            NamespaceOptions = Namespaces(pod.Spec),
            Privileged = context?.Privileged == true,
            ReadonlyRootfs = context?.ReadOnlyRootFilesystem == true,
            NoNewPrivs = context?.AllowPrivilegeEscalation == false,
        };
        if ((context?.RunAsUser ?? podContext?.RunAsUser) is { } user)
        {
            result.RunAsUser = new Int64Value { Value = user };
        }

        if ((context?.RunAsGroup ?? podContext?.RunAsGroup) is { } group)
        {
            result.RunAsGroup = new Int64Value { Value = group };
        }

        result.SupplementalGroups.AddRange((podContext?.SupplementalGroups ?? []).OfType<long>());
        if (context?.Capabilities is { } capabilities)
        {
            result.Capabilities = new Capability();
            result.Capabilities.AddCapabilities.AddRange((capabilities.Add ?? []).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c));
            result.Capabilities.DropCapabilities.AddRange((capabilities.Drop ?? []).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c));
        }

        return result;
    }

    internal static string? FieldValue(V1Pod pod, string path, string nodeIp, string podIp) => path switch
    {
        "metadata.name" => pod.Metadata.Name,
        "metadata.namespace" => pod.Metadata.NamespaceProperty,
        "metadata.uid" => pod.Metadata.Uid,
        "spec.nodeName" => pod.Spec.NodeName,
        "spec.serviceAccountName" => pod.Spec.ServiceAccountName,
        "status.hostIP" => nodeIp,
        "status.hostIPs" => nodeIp,
        "status.podIP" => podIp,
        "status.podIPs" => podIp,
        _ when path.StartsWith("metadata.labels['", StringComparison.Ordinal) => (pod.Metadata.Labels is { } labels && labels.TryGetValue(path[17..^2], out var label) ? label : null) ?? string.Empty,
        _ when path.StartsWith("metadata.annotations['", StringComparison.Ordinal) => (pod.Metadata.Annotations is { } annotations && annotations.TryGetValue(path[22..^2], out var annotation) ? annotation : null) ?? string.Empty,
        _ => null,
    };

    internal static string? ResourceValue(V1Pod pod, V1Container container, V1ResourceFieldSelector selector)
    {
        var target = selector.ContainerName is { Length: > 0 } name ? pod.Spec.Containers.FirstOrDefault(c => c.Name == name) ?? container : container;
        var (map, resource) = selector.Resource.StartsWith("limits.", StringComparison.Ordinal)
            ? (target.Resources?.Limits, selector.Resource[7..])
            : (target.Resources?.Requests, selector.Resource.StartsWith("requests.", StringComparison.Ordinal) ? selector.Resource[9..] : selector.Resource);
        var divisor = selector.Divisor?.ToDecimal() is { } d && d != 0 ? d : 1m;
        if (map?.TryGetValue(resource, out var quantity) != true)
        {
            // Unset limits are the node's capacity in kube; without it, report 0 for requests.
            return "0";
        }

        return Math.Ceiling(quantity!.ToDecimal() / divisor).ToString(CultureInfo.InvariantCulture);
    }
}
