using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet.StaticPods;

/// <summary>
/// Watches <c>--pod-manifest-path</c>: every few seconds it reads the pod files there into the static
/// pods the kubelet runs — with or without an API server — and wakes the kubelet for each pod that
/// came, changed or went. While the API server is reachable it keeps one mirror pod per static pod
/// there (created when missing, replaced when its file changed, deleted when the file is gone).
/// </summary>
/// <param name="nodePods">The pods bound to this node as the kubelet's pod cache has them; null until it has listed.</param>
internal sealed partial class StaticPodSource(IKubernetes client, string directory, string nodeName, Func<IReadOnlyList<V1Pod>?> nodePods, Action<string> changed, ILogger logger, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, string> _badFiles = new(StringComparer.Ordinal);
    private volatile IReadOnlyDictionary<string, V1Pod> _pods = new Dictionary<string, V1Pod>(StringComparer.Ordinal);

    /// <summary>The static pod under a namespace/name key, if a file asks for one.</summary>
    public V1Pod? Get(string key) => _pods.GetValueOrDefault(key);

    /// <summary>Every static pod the files ask for.</summary>
    public IEnumerable<V1Pod> List() => _pods.Values;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Refresh();
            try
            {
                await SyncMirrorsAsync(cancellationToken);
            }
            catch (HttpOperationException e)
            {
                LogSyncFailed(logger, e.Response.Content ?? e.Message);
            }
            catch (HttpRequestException e)
            {
                LogSyncFailed(logger, e.Message);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                LogSyncFailed(logger, e.Message); // the client's timeout: the API server is away
            }

            await Task.Delay(Interval, time, cancellationToken);
        }
    }

    /// <summary>Reads the files again and wakes the kubelet for every static pod that came, changed or went.</summary>
    public void Refresh()
    {
        var before = _pods;
        var now = Scan();
        _pods = now;
        foreach (var key in before.Keys.Union(now.Keys))
        {
            if (before.GetValueOrDefault(key)?.Metadata.Uid != now.GetValueOrDefault(key)?.Metadata.Uid)
            {
                changed(key);
            }
        }
    }

    /// <summary>The static pods the files ask for, by namespace/name.</summary>
    public Dictionary<string, V1Pod> Scan()
    {
        var desired = new Dictionary<string, V1Pod>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return desired;
        }

        foreach (var file in Directory.EnumerateFiles(directory).Where(StaticPodManifest.IsManifest).Order(StringComparer.Ordinal))
        {
            try
            {
                var pod = StaticPodManifest.Parse(File.ReadAllText(file), nodeName);
                desired[$"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}"] = pod;
                _badFiles.Remove(file);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                if (_badFiles.GetValueOrDefault(file) != e.Message)
                {
                    LogBadFile(logger, file, e.Message);
                    _badFiles[file] = e.Message;
                }
            }
        }

        return desired;
    }

    private async Task SyncMirrorsAsync(CancellationToken cancellationToken)
    {
        var desired = _pods;
        if (nodePods() is not { } pods)
        {
            return; // the API server is not reached yet
        }

        var mirrors = pods
            .Where(p => p.Metadata.Annotations is { } a && a.TryGetValue(StaticPodManifest.SourceAnnotation, out var source) && source == "file" && a.ContainsKey(StaticPodManifest.MirrorAnnotation))
            .ToDictionary(p => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}", StringComparer.Ordinal);

        foreach (var (key, mirror) in mirrors.ToList())
        {
            var wanted = desired.GetValueOrDefault(key);
            // A mirror pod someone deleted gracefully is deleted for good (and made again below on the
            // next scan): nothing runs under it that would have to stop first.
            var why = mirror.Metadata.DeletionTimestamp is not null ? "it is being deleted"
                : wanted is null ? "its file is gone"
                : wanted.Metadata.Annotations[StaticPodManifest.HashAnnotation] != mirror.Metadata.Annotations[StaticPodManifest.HashAnnotation] ? "its file changed"
                : null;
            if (why is not null)
            {
                LogRemoving(logger, key, why);
                await DeleteAsync(mirror, cancellationToken);
                mirrors.Remove(key);
            }
        }

        string? nodeUid = null;
        foreach (var (key, pod) in desired)
        {
            if (!mirrors.ContainsKey(key))
            {
                try
                {
                    nodeUid ??= (await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken)).Metadata.Uid;
                    await client.CoreV1.CreateNamespacedPodAsync(StaticPodManifest.Mirror(pod, nodeUid), pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                    LogCreated(logger, key);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
                {
                    // Still terminating, or its namespace not there yet: the next scan tries again.
                }
                catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
                {
                    LogRejected(logger, key, e.Response.Content);
                }
            }
        }
    }

    private async Task DeleteAsync(V1Pod mirror, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(mirror.Metadata.Name, mirror.Metadata.NamespaceProperty, new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = mirror.Metadata.Uid } }, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "static pod {Key}: mirror pod created")]
    private static partial void LogCreated(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "static pod {Key}: removing its mirror pod, {Why}")]
    private static partial void LogRemoving(ILogger logger, string key, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "static pod file {File} skipped: {Error}")]
    private static partial void LogBadFile(ILogger logger, string file, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "static pod {Key}: the API server rejected its mirror pod: {Error}")]
    private static partial void LogRejected(ILogger logger, string key, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "static pods: sync failed, retrying: {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string error);
}
