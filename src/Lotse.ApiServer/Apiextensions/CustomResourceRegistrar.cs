using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.OpenApi;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.Extensions.Logging;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// Serves what CustomResourceDefinitions define (kube's apiextensions-apiserver controllers, in the
/// API server process, driven by the definitions' watch cache so every server of a cluster does
/// the same): each served version becomes a resource — one key space per definition, under the
/// storage version — with its schema, subresources, printer columns, short names and categories;
/// discovery and OpenAPI follow at once; the definition's status says NamesAccepted and
/// Established. A definition being deleted (Terminating) has its objects deleted, then its
/// clean-up finalizer removed, and stops being served when it is gone.
/// </summary>
public sealed partial class CustomResourceRegistrar(ResourceRegistry registry, CacheSet caches, ObjectStore objects, OpenApiDocuments openApi, TimeProvider time, ILogger<CustomResourceRegistrar> logger)
{
    private readonly ConcurrentDictionary<string, List<(string Group, string Version, string Plural)>> _served = new(StringComparer.Ordinal);

    private ResourceDefinition Definitions => registry.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;

    /// <summary>Serves every definition the store holds (at start-up, before traffic), then follows changes until cancelled.</summary>
    public async Task<Task> StartAsync(CancellationToken cancellationToken)
    {
        var cache = caches.Find(Definitions.KeyPrefix)!;
        var watcher = cache.Watch(0, caches.Revision, e => e) ?? throw new InvalidOperationException("the definitions' cache cannot be watched");
        while (watcher.Events.TryRead(out var initial))
        {
            await SyncAsync(initial, cancellationToken);
        }

        return Task.Run(() => FollowAsync(watcher, cancellationToken), CancellationToken.None);
    }

    private async Task FollowAsync(CacheWatcher watcher, CancellationToken cancellationToken)
    {
        using (watcher)
        {
            try
            {
                await foreach (var e in watcher.Events.ReadAllAsync(cancellationToken))
                {
                    await SyncAsync(e, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            // The cache was reset (a relist): start over from its current state.
            _ = await StartAsync(cancellationToken);
        }
    }

    private async Task SyncAsync(CacheEvent e, CancellationToken cancellationToken)
    {
        var crd = e.Object.CloneObject();
        var name = crd["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;
        try
        {
            if (e.Type == CacheEventType.Deleted)
            {
                Unserve(name);
            }
            else if (crd["metadata"]?["deletionTimestamp"] is not null)
            {
                await CleanUpAsync(crd, name, cancellationToken);
            }
            else
            {
                await ServeAsync(crd, name, cancellationToken);
            }
        }
#pragma warning disable CA1031 // one broken definition must not stop the others being served
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogFailed(logger, name, ex.Message);
        }
    }

    private async Task ServeAsync(JsonObject crd, string name, CancellationToken cancellationToken)
    {
        var spec = (JsonObject)crd["spec"]!;
        var group = spec["group"]!.GetValue<string>();
        var names = (JsonObject)spec["names"]!;
        var plural = names["plural"]!.GetValue<string>();
        var versions = (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var definitions = versions.Where(v => v["served"].AsBoolean() != false).Select(v => Resource(group, spec, names, v)).ToList();
        await caches.AddAsync($"/registry/{plural}.{group}/", cancellationToken);
        var previous = _served.GetValueOrDefault(name) ?? [];
        foreach (var gone in previous.Where(p => !definitions.Any(d => (d.Group, d.Version, d.Plural) == p)))
        {
            registry.Remove(gone.Group, gone.Version, gone.Plural);
        }

        foreach (var definition in definitions)
        {
            registry.Add(definition);
        }

        _served[name] = [.. definitions.Select(d => (d.Group, d.Version, d.Plural))];
        openApi.Invalidate();
        await UpdateStatusAsync(crd, name, status =>
        {
            var storage = versions.FirstOrDefault(v => v["storage"].AsBoolean() == true)?["name"]?.GetValue<string>();
            var stored = (status["storedVersions"] as JsonArray ?? []).Select(v => v?.GetValue<string>()).OfType<string>().ToList();
            if (storage is not null && !stored.Contains(storage))
            {
                stored.Add(storage);
            }

            status["storedVersions"] = new JsonArray([.. stored.Select(v => (JsonNode)v)]);
            status["acceptedNames"] = names.DeepClone();
            SetCondition(status, "NamesAccepted", "True", "NoConflicts", "no conflicts found");
            SetCondition(status, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
        }, cancellationToken);
    }

    private static ResourceDefinition Resource(string group, JsonObject spec, JsonObject names, JsonObject version)
    {
        var schema = version["schema"]?["openAPIV3Schema"] as JsonObject;
        var subresources = new List<SubresourceDefinition>();
        if (version["subresources"]?["status"] is JsonObject)
        {
            subresources.Add(SubresourceDefinition.Status);
        }

        if (version["subresources"]?["scale"] is JsonObject scale
            && scale["specReplicasPath"]?.GetValue<string>() == ".spec.replicas" && scale["statusReplicasPath"]?.GetValue<string>() == ".status.replicas")
        {
            subresources.Add(SubresourceDefinition.Scale);
        }

        var kind = names["kind"]!.GetValue<string>();
        var plural = names["plural"]!.GetValue<string>();
        return new ResourceDefinition
        {
            Group = group,
            Version = version["name"]!.GetValue<string>(),
            Kind = kind,
            Plural = plural,
            Singular = names["singular"]?.GetValue<string>() ?? kind.ToLowerInvariant(),
            Namespaced = spec["scope"]?.GetValue<string>() != "Cluster",
            ShortNames = [.. (names["shortNames"] as JsonArray ?? []).Select(n => n?.GetValue<string>()).OfType<string>()],
            Categories = [.. (names["categories"] as JsonArray ?? []).Select(n => n?.GetValue<string>()).OfType<string>()],
            Subresources = subresources,
            Strategy = new CustomResourceStrategy((JsonObject?)schema?.DeepClone()),
            Table = PrinterColumns.For(version["additionalPrinterColumns"] as JsonArray),
            StorageResource = $"{plural}.{group}",
            Conversion = new Conversion.ApiVersionConversion($"{group}/{version["name"]!.GetValue<string>()}"),
            Schema = (JsonObject?)schema?.DeepClone(),
        };
    }

    private void Unserve(string name)
    {
        if (_served.TryRemove(name, out var served))
        {
            foreach (var (group, version, plural) in served)
            {
                registry.Remove(group, version, plural);
            }

            openApi.Invalidate();
        }
    }

    /// <summary>Deletes every object of a definition being deleted; once none is left, lets the definition go.</summary>
    private async Task CleanUpAsync(JsonObject crd, string name, CancellationToken cancellationToken)
    {
        var finalizers = (crd["metadata"]?["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).ToList();
        if (!finalizers.Contains(CustomResourceDefinitionStrategy.CleanupFinalizer))
        {
            return;
        }

        await UpdateStatusAsync(crd, name, status => SetCondition(status, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"), cancellationToken);
        var spec = (JsonObject)crd["spec"]!;
        var group = spec["group"]!.GetValue<string>();
        var plural = spec["names"]!["plural"]!.GetValue<string>();
        var storage = (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(v => v["storage"].AsBoolean() == true)?["name"]?.GetValue<string>();
        if (storage is not null && registry.Find(group, storage, plural) is { } resource && caches.Find(resource.KeyPrefix) is { } cache)
        {
            for (var round = 0; round < 60 && !cache.Objects.IsEmpty; round++)
            {
                foreach (var key in cache.Objects.Keys)
                {
                    var parts = key[resource.KeyPrefix.Length..].Split('/');
                    var scope = parts.Length == 2 ? new RequestScope(resource, parts[0], parts[1]) : new RequestScope(resource, null, parts[0]);
                    try
                    {
                        await objects.DeleteAsync(scope, new DeleteOptions(), cancellationToken);
                    }
                    catch (Errors.StatusException)
                    {
                        // Gone already, or held by finalizers of its own: looked at again next round.
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }

        await objects.UpdateAsync(new RequestScope(Definitions, null, name), current =>
        {
            var next = current!.CloneObject();
            var kept = (next["metadata"]?["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).Where(f => f != CustomResourceDefinitionStrategy.CleanupFinalizer).ToList();
            next["metadata"]!["finalizers"] = new JsonArray([.. kept.Select(f => (JsonNode?)f)]);
            return next;
        }, WriteOptions.Default, cancellationToken);
    }

    private async Task UpdateStatusAsync(JsonObject crd, string name, Action<JsonObject> change, CancellationToken cancellationToken)
    {
        var status = (crd["status"] as JsonObject)?.DeepClone() as JsonObject ?? [];
        change(status);
        if (JsonNode.DeepEquals(status, crd["status"]))
        {
            return;
        }

        await objects.UpdateAsync(new RequestScope(Definitions, null, name, "status"), current =>
        {
            var next = current!.CloneObject();
            var fresh = (next["status"] as JsonObject)?.DeepClone() as JsonObject ?? [];
            change(fresh);
            next["status"] = fresh;
            return next;
        }, WriteOptions.Default, cancellationToken);
    }

    /// <summary>Sets a condition, keeping its transition time when its status does not change.</summary>
    private void SetCondition(JsonObject status, string type, string value, string reason, string message)
    {
        var conditions = status["conditions"] as JsonArray ?? [];
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
        var since = existing?["status"]?.GetValue<string>() == value ? existing["lastTransitionTime"]?.DeepClone() : time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (existing is not null)
        {
            conditions.Remove(existing);
        }

        conditions.Add(new JsonObject { ["type"] = type, ["status"] = value, ["lastTransitionTime"] = since, ["reason"] = reason, ["message"] = message });
        status["conditions"] = conditions;
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "custom resource definition {Name} could not be served: {Error}")]
    private static partial void LogFailed(ILogger logger, string name, string error);
}
