using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;

namespace Lotse.ApiServer.Storage;

public sealed partial class ObjectStore
{
    /// <summary>
    /// Read-modify-write with optimistic concurrency, kubernetes' GuaranteedUpdate: reads the current
    /// object, lets <paramref name="tryUpdate"/> produce the new one (null current = absent), applies the
    /// shared update rules and the strategy, and writes only if the object did not change meanwhile.
    /// When the caller pinned a resourceVersion (in the body) a conflict is the caller's (409); when it
    /// did not, the loop re-reads and tries again. <paramref name="createIfMissing"/> lets a write create
    /// the object of any kind (a server-side apply does).
    /// </summary>
    public async Task<(CachedObject Object, bool Created)> UpdateAsync(
        RequestScope scope,
        Func<CachedObject?, JsonObject> tryUpdate,
        WriteOptions options,
        CancellationToken cancellationToken,
        bool createIfMissing = false)
    {
        var resource = scope.Resource;
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(scope.Key, cancellationToken);
            var updated = tryUpdate(current);
            if (current is null)
            {
                if (!(resource.Strategy.AllowCreateOnUpdate || createIfMissing) || scope.Subresource is not null)
                {
                    throw StatusException.NotFound(resource.GroupResource, scope.Name!);
                }

                return (await CreateAsync(scope, updated, options, cancellationToken), true);
            }

            var pinned = ParseResourceVersion(GetString(updated["metadata"] as JsonObject, "resourceVersion"));
            if (pinned != 0 && pinned != current.Revision)
            {
                throw StatusException.Conflict(resource.GroupResource, scope.Name!);
            }

            PrepareUpdate(scope, updated, current.Object, options);
            Metadata(updated).Remove("resourceVersion");
            var before = current.CloneObject();
            Metadata(before).Remove("resourceVersion");
            if (JsonNode.DeepEquals(updated, before))
            {
                return (current, false); // a no-op update writes nothing and keeps the resourceVersion
            }

            var hooks = resource.Hooks;
            if (options.DryRun)
            {
                if (hooks is not null)
                {
                    await hooks.BeforeUpdateAsync(scope.Key, updated, current.Object, dryRun: true, cancellationToken);
                }

                return (CachedObject.FromObject(scope.Key, updated, current.Revision, current.CreateRevision), false);
            }

            if (IsDeletionComplete(updated) && current.Object["metadata"]?["deletionGracePeriodSeconds"].AsInt64() == 0)
            {
                // The last finalizer is gone from an object being deleted: the update completes the delete.
                var deleted = await Guard(() => store.DeleteAsync(scope.Key, current.Revision, cancellationToken));
                if (deleted.Status == WriteStatus.Ok)
                {
                    if (hooks is not null)
                    {
                        await hooks.AfterDeleteAsync(scope.Key, updated, cancellationToken);
                    }

                    return (CachedObject.FromObject(scope.Key, updated, deleted.Revision, current.CreateRevision), false);
                }
            }
            else
            {
                var undo = hooks is null ? null : await hooks.BeforeUpdateAsync(scope.Key, updated, current.Object, dryRun: false, cancellationToken);
                WriteResult result;
                var stored = ToStored(updated);
                try
                {
                    result = await Guard(() => store.UpdateAsync(scope.Key, stored, current.Revision, 0, cancellationToken));
                }
                catch when (undo is not null)
                {
                    await undo();
                    throw;
                }

                if (result.Status == WriteStatus.Ok)
                {
                    if (hooks is not null)
                    {
                        await hooks.AfterUpdateAsync(scope.Key, updated, current.Object, cancellationToken);
                    }

                    return (CachedObject.FromStored(scope.Key, stored, result.Revision, current.CreateRevision), false);
                }

                if (undo is not null)
                {
                    await undo();
                }
            }

            if (pinned != 0 || attempt >= 16)
            {
                throw StatusException.Conflict(resource.GroupResource, scope.Name!);
            }
        }
    }

    /// <summary>The rules every update shares, then the strategy's (kubernetes' BeforeUpdate).</summary>
    private static void PrepareUpdate(RequestScope scope, JsonObject updated, JsonObject old, WriteOptions options)
    {
        var resource = scope.Resource;
        CheckTypeMeta(resource, updated);
        var metadata = Metadata(updated);
        var oldMetadata = (JsonObject)old["metadata"]!;
        var name = GetString(metadata, "name");
        if (!string.IsNullOrEmpty(name) && name != scope.Name)
        {
            throw StatusException.BadRequest($"the name of the object ({name}) does not match the name on the URL ({scope.Name})");
        }

        var bodyNamespace = GetString(metadata, "namespace");
        if (resource.Namespaced && !string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != scope.Namespace)
        {
            throw StatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var uid = GetString(metadata, "uid");
        if (!string.IsNullOrEmpty(uid) && uid != GetString(oldMetadata, "uid"))
        {
            throw StatusException.Conflict(resource.GroupResource, scope.Name!, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {GetString(oldMetadata, "uid")}");
        }

        if (scope.Subresource == "finalize")
        {
            // namespaces/finalize changes spec.finalizers only.
            var finalizers = updated["spec"]?["finalizers"]?.DeepClone() ?? new JsonArray();
            updated.Clear();
            foreach (var (k, v) in old)
            {
                updated[k] = v?.DeepClone();
            }

            if (updated["spec"] is not JsonObject spec)
            {
                spec = [];
                updated["spec"] = spec;
            }

            spec["finalizers"] = finalizers;
            metadata = Metadata(updated);
        }
        else if (scope.Subresource == "status")
        {
            // A status update changes status only (kubernetes resets spec and most metadata).
            var status = updated["status"]?.DeepClone();
            updated.Clear();
            foreach (var (k, v) in old)
            {
                if (k != "status")
                {
                    updated[k] = v?.DeepClone();
                }
            }

            // Also when the object had no status yet (a node registered without one).
            if (status is not null)
            {
                updated["status"] = status;
            }

            metadata = Metadata(updated);
        }
        else if (resource.HasSubresource("status") && scope.Subresource != "binding")
        {
            // A main-resource update keeps the stored status; pods/binding sets the node and the
            // PodScheduled condition in one write.
            if (old["status"] is { } oldStatus)
            {
                updated["status"] = oldStatus.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }

        // System-owned metadata keeps its stored value whatever the client sent.
        metadata["name"] = scope.Name;
        if (resource.Namespaced)
        {
            metadata["namespace"] = scope.Namespace;
        }

        foreach (var field in (string[])["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"])
        {
            if (oldMetadata[field] is { } value)
            {
                metadata[field] = value.DeepClone();
            }
            else
            {
                metadata.Remove(field);
            }
        }

        if (metadata["deletionTimestamp"] is not null && !IsEmpty(metadata["finalizers"]))
        {
            // kubernetes: once deletion started, new finalizers may not be added.
            var oldFinalizers = (oldMetadata["finalizers"] as JsonArray)?.Select(f => f?.ToString()).ToHashSet() ?? [];
            if ((metadata["finalizers"] as JsonArray)!.Any(f => !oldFinalizers.Contains(f?.ToString())))
            {
                throw StatusException.Invalid(resource.Group, resource.Kind, scope.Name!,
                    [FieldError.Forbidden(FieldPath.Root("metadata").Child("finalizers"), "no new finalizers can be added if the object is being deleted")]);
            }
        }

        var errors = new List<FieldError>();
        if (scope.Subresource is "status" or "finalize")
        {
            resource.Strategy.ValidateStatusUpdate(updated, old, errors);
        }
        else
        {
            resource.Strategy.PrepareForUpdate(updated, old);
            resource.Strategy.ApplyDefaults(updated);
            if (resource.Strategy.TracksGeneration && SpecChanged(updated, old))
            {
                var generation = oldMetadata["generation"].AsInt64() ?? 0;
                metadata["generation"] = generation + 1;
            }

            ValidateMeta(resource, metadata, errors);
            resource.Strategy.ValidateUpdate(updated, old, errors);
        }

        options.RecordFields?.Invoke(updated, old);
        ThrowIfInvalid(resource, updated, errors);
    }

    /// <summary>Whether anything outside metadata and status changed (what bumps metadata.generation).</summary>
    private static bool SpecChanged(JsonObject updated, JsonObject old)
    {
        static JsonObject Strip(JsonObject o)
        {
            var copy = new JsonObject();
            foreach (var (k, v) in o)
            {
                if (k is not ("metadata" or "status" or "apiVersion" or "kind"))
                {
                    copy[k] = v?.DeepClone();
                }
            }

            return copy;
        }

        return !JsonNode.DeepEquals(Strip(updated), Strip(old));
    }

    private static bool IsEmpty(JsonNode? node) => node is not JsonArray { Count: > 0 };

    /// <summary>
    /// An object being deleted goes once nothing holds it: no finalizers, and for namespaces also no
    /// spec.finalizers (kubernetes' namespace registry) — provided its grace period is over
    /// (deletionGracePeriodSeconds 0, kubernetes' ShouldDeleteDuringUpdate).
    /// </summary>
    private static bool IsDeletionComplete(JsonObject obj) =>
        obj["metadata"]?["deletionTimestamp"] is not null
        && IsEmpty(obj["metadata"]?["finalizers"])
        && (GetString(obj, "kind") != "Namespace" || IsEmpty(obj["spec"]?["finalizers"]));
}
