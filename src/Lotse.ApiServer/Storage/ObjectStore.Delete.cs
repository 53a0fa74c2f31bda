using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;

namespace Lotse.ApiServer.Storage;

public sealed partial class ObjectStore
{
    public const string OrphanFinalizer = "orphan";
    public const string ForegroundFinalizer = "foregroundDeletion";

    /// <summary>
    /// Deletes an object (DELETE), kubernetes' graceful deletion: objects with finalizers, and pods
    /// on a node with a grace period, only get a deletionTimestamp and stay until their finalizers are
    /// gone or the node agent confirms; everything else goes at once.
    /// </summary>
    /// <returns>The object and whether it is gone now (false: deletion is pending).</returns>
    public async Task<(CachedObject Object, bool Deleted)> DeleteAsync(RequestScope scope, DeleteOptions options, CancellationToken cancellationToken)
    {
        var resource = scope.Resource;
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(scope.Key, cancellationToken) ?? throw StatusException.NotFound(resource.GroupResource, scope.Name!);
            var metadata = (JsonObject)current.Object["metadata"]!;
            if (options.PreconditionUid is { Length: > 0 } uid && uid != GetString(metadata, "uid"))
            {
                throw StatusException.Conflict(resource.GroupResource, scope.Name!, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {GetString(metadata, "uid")}");
            }

            if (options.PreconditionResourceVersion is { Length: > 0 } rv && ParseResourceVersion(rv) != current.Revision)
            {
                throw StatusException.Conflict(resource.GroupResource, scope.Name!, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {current.Revision}");
            }

            var updated = current.CloneObject();
            var pending = PrepareDelete(scope, updated, options);
            if (options.DryRun)
            {
                return (current, !pending);
            }

            if (pending)
            {
                if (JsonNode.DeepEquals(updated, current.Object))
                {
                    return (current, false);
                }

                var result = await Guard(() => store.UpdateAsync(scope.Key, ToStored(updated), current.Revision, 0, cancellationToken));
                if (result.Status == WriteStatus.Ok)
                {
                    return (CachedObject.FromObject(scope.Key, updated, result.Revision, current.CreateRevision), false);
                }
            }
            else
            {
                var result = await Guard(() => store.DeleteAsync(scope.Key, current.Revision, cancellationToken));
                if (result.Status == WriteStatus.Ok)
                {
                    if (resource.Hooks is not null)
                    {
                        await resource.Hooks.AfterDeleteAsync(scope.Key, updated, cancellationToken);
                    }

                    return (CachedObject.FromObject(scope.Key, updated, result.Revision, current.CreateRevision), true);
                }
            }

            if (attempt >= 16)
            {
                throw StatusException.Conflict(resource.GroupResource, scope.Name!);
            }
        }
    }

    /// <summary>Sets deletionTimestamp and the propagation finalizers; returns true when the object must stay for now.</summary>
    private bool PrepareDelete(RequestScope scope, JsonObject obj, DeleteOptions options)
    {
        var metadata = Metadata(obj);
        var finalizers = metadata["finalizers"] as JsonArray ?? [];
        var names = finalizers.Select(f => f?.ToString()).ToList();

        void SetFinalizer(string name, bool on)
        {
            if (on && !names.Contains(name))
            {
                finalizers.Add(name);
                names.Add(name);
            }
            else if (!on && names.Contains(name))
            {
                finalizers.RemoveAt(names.IndexOf(name));
                names.Remove(name);
            }
        }

        // Propagation: orphan and foreground are finalizers the garbage collector works off.
        switch (options.PropagationPolicy)
        {
            case "Orphan":
                SetFinalizer(OrphanFinalizer, true);
                SetFinalizer(ForegroundFinalizer, false);
                break;
            case "Foreground":
                SetFinalizer(ForegroundFinalizer, true);
                SetFinalizer(OrphanFinalizer, false);
                break;
            case "Background":
                break;
            case null or "":
                break;
            default:
                throw StatusException.BadRequest($"Unsupported value: \"{options.PropagationPolicy}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        }

        if (finalizers.Count > 0)
        {
            metadata["finalizers"] = finalizers;
        }

        var grace = GracePeriodSeconds(scope, obj, options);
        var isNamespace = scope.Resource.Group.Length == 0 && scope.Resource.Plural == "namespaces";
        var held = finalizers.Count > 0 || (isNamespace && !IsEmpty(obj["spec"]?["finalizers"]));
        if (!held && grace == 0)
        {
            return false;
        }

        if (isNamespace)
        {
            // The namespace controller empties a Terminating namespace, then finalizes it.
            if (obj["status"] is not JsonObject status)
            {
                status = [];
                obj["status"] = status;
            }

            status["phase"] = "Terminating";
        }

        if (metadata["deletionTimestamp"] is null)
        {
            var at = time.GetUtcNow().UtcDateTime.AddSeconds(grace);
            metadata["deletionTimestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            metadata["deletionGracePeriodSeconds"] = grace;
        }
        else if (metadata["deletionGracePeriodSeconds"].AsInt64() is { } previous && grace < previous)
        {
            // A shorter grace period may replace a longer one (kubernetes allows shortening only).
            metadata["deletionGracePeriodSeconds"] = grace;
            metadata["deletionTimestamp"] = time.GetUtcNow().UtcDateTime.AddSeconds(grace).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return true;
    }

    /// <summary>
    /// Pods bound to a node get a grace period (the request's, else spec.terminationGracePeriodSeconds,
    /// else 30): the node agent stops the containers and then deletes with grace 0. Unbound pods and
    /// every other kind go at once.
    /// </summary>
    private static long GracePeriodSeconds(RequestScope scope, JsonObject obj, DeleteOptions options)
    {
        if (scope.Resource.Group.Length != 0 || scope.Resource.Plural != "pods")
        {
            return 0;
        }

        var spec = obj["spec"] as JsonObject;
        if (string.IsNullOrEmpty(GetString(spec, "nodeName")))
        {
            return 0;
        }

        var phase = GetString(obj["status"] as JsonObject, "phase");
        if (phase is "Succeeded" or "Failed")
        {
            return 0;
        }

        var grace = options.GracePeriodSeconds ?? spec?["terminationGracePeriodSeconds"].AsInt64() ?? 30;
        return Math.Max(0, grace);
    }
}
