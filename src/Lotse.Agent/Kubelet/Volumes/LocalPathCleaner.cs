using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>
/// The node's half of the local-path provisioner's delete (K3s removes the directory with a helper
/// pod on the node): volumes provisioned on this node carry the <see cref="Finalizer"/>; once such a
/// volume is being deleted (its claim gone, reclaim policy Delete), the agent removes its
/// directory, then the finalizer, and the volume goes. Only a <c>pvc-…</c> directory is removed.
/// Hollow nodes run it without directories (<paramref name="removeDirectories"/> false).
/// </summary>
/// <param name="isLocal">Whether a node name is this agent's (one node, or a hollow set).</param>
internal sealed partial class LocalPathCleaner(IKubernetes client, Func<string, bool> isLocal, ILogger logger, TimeProvider time, bool removeDirectories = true)
{
    /// <summary>Set by the provisioner (Lotse.Controllers' LocalPathOptions.CleanupFinalizer); removed here once the volume's directory is gone.</summary>
    public const string Finalizer = "lotse.io/local-path-cleanup";

    private readonly Informer<V1PersistentVolume> _volumes = new(ListWatches.PersistentVolumes(client), logger, time, resync: TimeSpan.FromSeconds(30));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _volumes.AddHandler(InformerHandler.ForAll<V1PersistentVolume>(volume => _ = CleanAsync(volume, cancellationToken)));
        await _volumes.RunAsync(cancellationToken);
    }

    /// <summary>Whether this node holds the volume's directory and is asked to remove it.</summary>
    public static bool IsOurs(V1PersistentVolume volume, Func<string, bool> isLocal) =>
        volume.Metadata.DeletionTimestamp is not null
        && volume.Metadata.Finalizers?.Contains(Finalizer) == true
        && volume.Spec?.HostPath?.Path is { } path && Path.GetFileName(path.TrimEnd('/')).StartsWith("pvc-", StringComparison.Ordinal)
        && volume.Spec.NodeAffinity?.Required?.NodeSelectorTerms?.Any(t => t.MatchExpressions?.Any(e => e.Key == "kubernetes.io/hostname" && e.Values?.Any(isLocal) == true) == true) == true;

    private async Task CleanAsync(V1PersistentVolume volume, CancellationToken cancellationToken)
    {
        if (!IsOurs(volume, isLocal))
        {
            return;
        }

        try
        {
            var path = volume.Spec.HostPath.Path;
            if (removeDirectories && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            var finalizers = new JsonArray([.. volume.Metadata.Finalizers.Where(f => f != Finalizer).Select(f => (JsonNode)JsonValue.Create(f))]);
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["finalizers"] = finalizers, ["resourceVersion"] = volume.Metadata.ResourceVersion } };
            await client.CoreV1.PatchPersistentVolumeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), volume.Metadata.Name, cancellationToken: cancellationToken);
            LogRemoved(logger, volume.Metadata.Name, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpOperationException)
        {
            // A conflict means a newer version is on its way to this handler; anything else is logged and retried on the next event or resync.
            LogFailed(logger, volume.Metadata.Name, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "local-path volume {Volume}: removed {Path}")]
    private static partial void LogRemoved(ILogger logger, string volume, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "local-path volume {Volume}: cleaning up failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string volume, string error);
}
