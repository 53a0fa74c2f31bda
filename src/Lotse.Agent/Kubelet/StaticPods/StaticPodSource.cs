using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet.StaticPods;

/// <summary>
/// Watches <c>--pod-manifest-path</c>: every few seconds it reads the pod files there and keeps one
/// mirror pod per file in the API (created when a file appears, replaced when it changes, deleted
/// when it goes); the kubelet runs the mirror pods as any pod bound to its node.
/// </summary>
internal sealed partial class StaticPodSource(IKubernetes client, string directory, string nodeName, ILogger logger, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, string> _badFiles = new(StringComparer.Ordinal);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(cancellationToken);
            }
            catch (HttpOperationException e)
            {
                LogSyncFailed(logger, e.Response.Content ?? e.Message);
            }
            catch (HttpRequestException e)
            {
                LogSyncFailed(logger, e.Message);
            }

            await Task.Delay(Interval, time, cancellationToken);
        }
    }

    /// <summary>The mirror pods the files ask for, by namespace/name.</summary>
    public Dictionary<string, V1Pod> Scan(string nodeUid)
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
                var pod = StaticPodManifest.Parse(File.ReadAllText(file), nodeName, nodeUid);
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

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var node = await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken);
        var desired = Scan(node.Metadata.Uid);
        var pods = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"spec.nodeName={nodeName}", cancellationToken: cancellationToken);
        var mirrors = pods.Items
            .Where(p => p.Metadata.Annotations is { } a && a.TryGetValue(StaticPodManifest.SourceAnnotation, out var source) && source == "file" && a.ContainsKey(StaticPodManifest.MirrorAnnotation))
            .ToDictionary(p => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}", StringComparer.Ordinal);

        foreach (var (key, mirror) in mirrors)
        {
            var wanted = desired.GetValueOrDefault(key);
            if (mirror.Metadata.DeletionTimestamp is null && (wanted is null || wanted.Metadata.Annotations[StaticPodManifest.HashAnnotation] != mirror.Metadata.Annotations[StaticPodManifest.HashAnnotation]))
            {
                LogRemoving(logger, key, wanted is null ? "its file is gone" : "its file changed");
                await DeleteAsync(mirror, cancellationToken);
            }
        }

        foreach (var (key, pod) in desired)
        {
            if (!mirrors.ContainsKey(key))
            {
                try
                {
                    await client.CoreV1.CreateNamespacedPodAsync(pod, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
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
            await client.CoreV1.DeleteNamespacedPodAsync(mirror.Metadata.Name, mirror.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = mirror.Metadata.Uid } }, cancellationToken: cancellationToken);
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
