using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Agent.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>
/// Sets up a pod's volumes under <c>&lt;agent-dir&gt;/pods/&lt;uid&gt;/volumes/&lt;plugin&gt;/&lt;name&gt;</c>
/// (emptyDir, configMap, secret, downwardAPI, projected) or on the host (hostPath, a claim's bound
/// hostPath or local volume), turns volumeMounts into CRI mounts, writes the pod's managed
/// <c>/etc/hosts</c>, and removes it all when the pod goes.
/// </summary>
internal sealed partial class VolumeManager(IKubernetes client, string agentDir, string nodeIp, string clusterDomain, ILogger logger, TimeProvider time)
{
    private const int DefaultMode = 420; // 0644
    private readonly ConcurrentDictionary<string, (byte[] Token, DateTimeOffset RefreshAt)> _tokens = new(StringComparer.Ordinal);

    public string PodsDir => Path.Combine(agentDir, "pods");

    public string PodDir(string uid) => Path.Combine(PodsDir, uid);

    /// <summary>Whether the pod has volumes whose content follows API objects, or whose size is limited (looked at periodically).</summary>
    public static bool NeedsResync(V1Pod pod) =>
        (pod.Spec.Volumes ?? []).Any(v => v.ConfigMap is not null || v.Secret is not null || v.DownwardAPI is not null || v.Projected is not null || LimitedDisk(v) is not null);

    /// <summary>
    /// The first disk-backed emptyDir of the pod that holds more than its <c>sizeLimit</c>, as the
    /// kubelet's eviction manager checks them (memory-backed ones are bounded by their tmpfs size).
    /// </summary>
    public (string Volume, string Limit)? EmptyDirOverLimit(V1Pod pod)
    {
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            if (LimitedDisk(volume) is { } limit)
            {
                var dir = new DirectoryInfo(Path.Combine(PodDir(pod.Metadata.Uid), "volumes", "kubernetes.io~empty-dir", volume.Name));
                if (dir.Exists && Usage(dir) > limit)
                {
                    return (volume.Name, volume.EmptyDir.SizeLimit.ToString());
                }
            }
        }

        return null;
    }

    private static decimal? LimitedDisk(V1Volume volume) =>
        volume.EmptyDir is { Medium: not "Memory", SizeLimit: { } size } && size.ToDecimal() is var limit and > 0 ? limit : null;

    /// <summary>Bytes in the files under <paramref name="dir"/> (links not followed).</summary>
    private static long Usage(DirectoryInfo dir)
    {
        try
        {
            return dir.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true }).Sum(f => f.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // removed while counted: the next look counts again
        }
    }

    /// <summary>Sets up (or refreshes) every volume of the pod; throws <see cref="VolumeSetupException"/> with kube's FailedMount message.</summary>
    public async Task<IReadOnlyDictionary<string, PodVolume>> SetUpAsync(V1Pod pod, string podIp, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, PodVolume>(StringComparer.Ordinal);
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            try
            {
                result[volume.Name] = await SetUpAsync(pod, volume, podIp, cancellationToken);
            }
            catch (VolumeSetupException e)
            {
                throw new VolumeSetupException($"MountVolume.SetUp failed for volume \"{volume.Name}\" : {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new VolumeSetupException($"MountVolume.SetUp failed for volume \"{volume.Name}\" : {e.Message}", e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new VolumeSetupException($"MountVolume.SetUp failed for volume \"{volume.Name}\" : {e.Message}", e);
            }
        }

        return result;
    }

    private async Task<PodVolume> SetUpAsync(V1Pod pod, V1Volume volume, string podIp, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata.Uid;
        string Dir(string plugin) => Path.Combine(PodDir(uid), "volumes", plugin, volume.Name);
        if (volume.EmptyDir is { } emptyDir)
        {
            var dir = Dir("kubernetes.io~empty-dir");
            Directory.CreateDirectory(dir);
            if (emptyDir.Medium == "Memory" && !IsMountPoint(dir))
            {
                var size = emptyDir.SizeLimit?.ToDecimal() is { } limit && limit > 0 ? $",size={(long)limit}" : string.Empty;
                Native.MountTmpfs(dir, size);
            }

            File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("777", 8));
            return new PodVolume(dir, false);
        }

        if (volume.HostPath is { } hostPath)
        {
            HostPathTypes.Check(hostPath.Path, hostPath.Type);
            return new PodVolume(hostPath.Path, false);
        }

        if (volume.PersistentVolumeClaim is { } claim)
        {
            return await ClaimAsync(pod, claim, cancellationToken);
        }

        var payload = new Dictionary<string, FilePayload>(StringComparer.Ordinal);
        string plugin;
        if (volume.ConfigMap is { } configMap)
        {
            plugin = "kubernetes.io~configmap";
            await ConfigMapAsync(pod, configMap.Name, configMap.Items, configMap.Optional == true, configMap.DefaultMode ?? DefaultMode, payload, cancellationToken);
        }
        else if (volume.Secret is { } secret)
        {
            plugin = "kubernetes.io~secret";
            await SecretAsync(pod, secret.SecretName, secret.Items, secret.Optional == true, secret.DefaultMode ?? DefaultMode, payload, cancellationToken);
        }
        else if (volume.DownwardAPI is { } downward)
        {
            plugin = "kubernetes.io~downward-api";
            DownwardApi.Render(pod, downward.Items ?? [], downward.DefaultMode ?? DefaultMode, nodeIp, podIp, payload);
        }
        else if (volume.Projected is { } projected)
        {
            plugin = "kubernetes.io~projected";
            var mode = projected.DefaultMode ?? DefaultMode;
            foreach (var source in projected.Sources ?? [])
            {
                if (source.ConfigMap is { } cm)
                {
                    await ConfigMapAsync(pod, cm.Name, cm.Items, cm.Optional == true, mode, payload, cancellationToken);
                }
                else if (source.Secret is { } s)
                {
                    await SecretAsync(pod, s.Name, s.Items, s.Optional == true, mode, payload, cancellationToken);
                }
                else if (source.DownwardAPI is { } d)
                {
                    DownwardApi.Render(pod, d.Items ?? [], mode, nodeIp, podIp, payload);
                }
                else if (source.ServiceAccountToken is { } token)
                {
                    payload[token.Path] = new FilePayload(await TokenAsync(pod, volume.Name, token, cancellationToken), mode);
                }
            }
        }
        else
        {
            throw new VolumeSetupException("volume type not supported by this node");
        }

        var target = Dir(plugin);
        if (AtomicWriter.Write(target, payload, time))
        {
            LogVolumeWritten(logger, volume.Name, pod.Metadata.NamespaceProperty, pod.Metadata.Name);
        }

        return new PodVolume(target, true);
    }

    private async Task ConfigMapAsync(V1Pod pod, string name, IList<V1KeyToPath>? items, bool optional, int mode, Dictionary<string, FilePayload> payload, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var configMap = await SourceAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken), "configmap", ns, name, optional);
        if (configMap is null)
        {
            return;
        }

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in configMap.Data ?? new Dictionary<string, string>())
        {
            data[key] = System.Text.Encoding.UTF8.GetBytes(value);
        }

        foreach (var (key, value) in configMap.BinaryData ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }

        Project(data, items, optional, mode, payload, "configmap references non-existent config key");
    }

    private async Task SecretAsync(V1Pod pod, string name, IList<V1KeyToPath>? items, bool optional, int mode, Dictionary<string, FilePayload> payload, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var secret = await SourceAsync(() => client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken), "secret", ns, name, optional);
        if (secret is null)
        {
            return;
        }

        Project(new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal), items, optional, mode, payload, "references non-existent secret key");
    }

    /// <summary>
    /// A configMap or secret a volume draws from: null when it is missing and optional, kube's "not
    /// found" failure when it is required. What was read serves every pod of the namespace for a few
    /// seconds (the kubelet's TTL cache), so that resyncs of many pods — each has the
    /// <c>kube-root-ca.crt</c> ConfigMap in its token volume — do not each read it again.
    /// </summary>
    private async Task<T?> SourceAsync<T>(Func<Task<T>> read, string what, string ns, string name, bool optional)
        where T : class
    {
        var key = $"{what}/{ns}/{name}";
        var now = time.GetUtcNow();
        if (_sources.TryGetValue(key, out var cached) && now < cached.Until && cached.Value is T hit)
        {
            return hit;
        }

        try
        {
            var value = await read();
            if (_sources.Count >= 1024)
            {
                foreach (var stale in _sources.Where(s => s.Value.Until <= now).Select(s => s.Key).ToList())
                {
                    _sources.TryRemove(stale, out _);
                }
            }

            _sources[key] = (value, now + SourceTtl);
            return value;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return optional ? null : throw new VolumeSetupException($"{what} \"{name}\" not found", e);
        }
    }

    private static readonly TimeSpan SourceTtl = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (object Value, DateTimeOffset Until)> _sources = new(StringComparer.Ordinal);

    private static void Project(Dictionary<string, byte[]> data, IList<V1KeyToPath>? items, bool optional, int mode, Dictionary<string, FilePayload> payload, string missingKey)
    {
        if (items is not { Count: > 0 })
        {
            foreach (var (key, value) in data)
            {
                payload[key] = new FilePayload(value, mode);
            }

            return;
        }

        foreach (var item in items)
        {
            if (!data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }

                throw new VolumeSetupException($"{missingKey}: {item.Key}");
            }

            payload[item.Path] = new FilePayload(value, item.Mode ?? mode);
        }
    }

    /// <summary>A bound service-account token from the TokenRequest API, requested again at 80 % of its lifetime.</summary>
    private async Task<byte[]> TokenAsync(V1Pod pod, string volume, V1ServiceAccountTokenProjection projection, CancellationToken cancellationToken)
    {
        var key = $"{pod.Metadata.Uid}/{volume}/{projection.Path}";
        var now = time.GetUtcNow();
        if (_tokens.TryGetValue(key, out var cached) && now < cached.RefreshAt)
        {
            return cached.Token;
        }

        var seconds = projection.ExpirationSeconds ?? 3600;
        var account = pod.Spec.ServiceAccountName is { Length: > 0 } name ? name : "default";
        var request = new Authenticationv1TokenRequest
        {
            Spec = new V1TokenRequestSpec
            {
                Audiences = projection.Audience is { Length: > 0 } audience ? [audience] : [],
                ExpirationSeconds = seconds,
                BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
            },
        };
        try
        {
            var issued = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, account, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            var token = System.Text.Encoding.UTF8.GetBytes(issued.Status.Token);
            _tokens[key] = (token, now + TimeSpan.FromSeconds(seconds * 0.8));
            return token;
        }
        catch (HttpOperationException e)
        {
            throw new VolumeSetupException($"failed to fetch token: {Reason(e)}", e);
        }
    }

    private async Task<PodVolume> ClaimAsync(V1Pod pod, V1PersistentVolumeClaimVolumeSource source, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty;
        V1PersistentVolumeClaim claim;
        try
        {
            claim = await client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(source.ClaimName, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new VolumeSetupException($"persistentvolumeclaim \"{source.ClaimName}\" not found", e);
        }

        if (claim.Status?.Phase != "Bound" || claim.Spec?.VolumeName is not { Length: > 0 } volumeName)
        {
            throw new VolumeSetupException($"PVC {ns}/{source.ClaimName} has non-bound phase (\"{claim.Status?.Phase}\") or empty pvc.Spec.VolumeName (\"{claim.Spec?.VolumeName}\")");
        }

        V1PersistentVolume volume;
        try
        {
            volume = await client.CoreV1.ReadPersistentVolumeAsync(volumeName, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new VolumeSetupException($"persistentvolume \"{volumeName}\" not found", e);
        }

        var readOnly = source.ReadOnlyProperty == true;
        if (volume.Spec.HostPath is { } hostPath)
        {
            HostPathTypes.Check(hostPath.Path, hostPath.Type);
            return new PodVolume(hostPath.Path, readOnly);
        }

        if (volume.Spec.Local is { } local)
        {
            if (Native.FileType(local.Path) is null)
            {
                throw new VolumeSetupException($"path \"{local.Path}\" does not exist");
            }

            return new PodVolume(local.Path, readOnly);
        }

        throw new VolumeSetupException($"persistentvolume \"{volumeName}\" is of a type this node cannot mount (hostPath and local only)");
    }

    /// <summary>
    /// The container's CRI mounts: its volumeMounts (subPath inside the volume; read-only when the
    /// mount or the volume is) and, off the host network, the managed <c>/etc/hosts</c>.
    /// </summary>
    public List<Mount> Mounts(V1Pod pod, V1Container container, IReadOnlyDictionary<string, PodVolume> volumes, string podIp)
    {
        var mounts = new List<Mount>();
        foreach (var volumeMount in container.VolumeMounts ?? [])
        {
            if (!volumes.TryGetValue(volumeMount.Name, out var volume))
            {
                throw new VolumeSetupException($"cannot find volume \"{volumeMount.Name}\" to mount into container \"{container.Name}\"");
            }

            var host = volume.HostPath;
            if (volumeMount.SubPath is { Length: > 0 } subPath)
            {
                if (Path.IsPathRooted(subPath) || subPath.Split('/').Contains(".."))
                {
                    throw new VolumeSetupException($"invalid subpath \"{subPath}\": must be a relative path without \"..\"");
                }

                host = Path.Combine(host, subPath);
                if (Native.FileType(host) is null)
                {
                    if (volume.ReadOnly)
                    {
                        throw new VolumeSetupException($"subPath \"{subPath}\" does not exist in volume \"{volumeMount.Name}\"");
                    }

                    Directory.CreateDirectory(host);
                }
                else if (new FileInfo(host).ResolveLinkTarget(returnFinalTarget: true) is { } real)
                {
                    host = real.FullName;
                }
            }

            mounts.Add(new Mount
            {
                ContainerPath = volumeMount.MountPath,
                HostPath = host,
                Readonly = volumeMount.ReadOnlyProperty == true || volume.ReadOnly,
                Propagation = MountPropagation.PropagationPrivate,
            });
        }

        if (pod.Spec.HostNetwork != true && !mounts.Any(m => m.ContainerPath == "/etc/hosts"))
        {
            var hosts = Path.Combine(PodDir(pod.Metadata.Uid), "etc-hosts");
            Directory.CreateDirectory(Path.GetDirectoryName(hosts)!);
            var content = HostsFile.Content(pod, podIp, clusterDomain);
            if (!File.Exists(hosts) || File.ReadAllText(hosts) != content)
            {
                File.WriteAllText(hosts, content);
                File.SetUnixFileMode(hosts, (UnixFileMode)Convert.ToInt32("644", 8));
            }

            mounts.Add(new Mount { ContainerPath = "/etc/hosts", HostPath = hosts, Propagation = MountPropagation.PropagationPrivate });
        }

        return mounts;
    }

    /// <summary>Unmounts the pod's memory-backed volumes and removes its directory.</summary>
    public void TearDown(string uid)
    {
        foreach (var key in _tokens.Keys.Where(k => k.StartsWith(uid + "/", StringComparison.Ordinal)))
        {
            _tokens.TryRemove(key, out _);
        }

        var dir = PodDir(uid);
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var mount in MountPoints().Where(m => m.StartsWith(dir + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Length))
        {
            if (!Native.Unmount(mount))
            {
                LogUnmountFailed(logger, mount);
                return;
            }
        }

        Directory.Delete(dir, recursive: true);
        LogTornDown(logger, uid);
    }

    /// <summary>The pod uids that have a directory here.</summary>
    public IEnumerable<string> PodUids() =>
        Directory.Exists(PodsDir) ? Directory.EnumerateDirectories(PodsDir).Select(Path.GetFileName).OfType<string>() : [];

    private static bool IsMountPoint(string dir) => MountPoints().Contains(Path.GetFullPath(dir).TrimEnd('/'));

    private static List<string> MountPoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' '))
            .Where(f => f.Length > 4)
            .Select(f => f[4].Replace("\\040", " ", StringComparison.Ordinal))
            .ToList();

    private static string Reason(HttpOperationException e)
    {
        try
        {
            return System.Text.Json.JsonDocument.Parse(e.Response.Content).RootElement.GetProperty("message").GetString() ?? e.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(int)e.Response.StatusCode} {e.Response.ReasonPhrase}");
        }
        catch (KeyNotFoundException)
        {
            return e.Message;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "volume {Volume} of pod {Namespace}/{Pod} written")]
    private static partial void LogVolumeWritten(ILogger logger, string volume, string @namespace, string pod);

    [LoggerMessage(Level = LogLevel.Warning, Message = "unmounting {Path} failed; the pod's directory stays until the next sweep")]
    private static partial void LogUnmountFailed(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "volumes of pod uid {Uid} removed")]
    private static partial void LogTornDown(ILogger logger, string uid);
}
