using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;

namespace Lotse.ApiServer.Storage;

public sealed partial class ObjectStore
{
    /// <summary>The characters kubernetes' generateName suffix draws from (no vowels, no confusables).</summary>
    private const string NameSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private const int MaxGeneratedNameAttempts = 8;

    /// <summary>Creates an object (POST). Returns it as stored, with resourceVersion.</summary>
    public async Task<CachedObject> CreateAsync(RequestScope scope, JsonObject obj, WriteOptions options, CancellationToken cancellationToken)
    {
        var resource = scope.Resource;
        CheckTypeMeta(resource, obj);
        var metadata = Metadata(obj);
        var bodyNamespace = GetString(metadata, "namespace");
        if (resource.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != scope.Namespace)
            {
                throw StatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            metadata["namespace"] = scope.Namespace;
        }
        else
        {
            metadata.Remove("namespace");
        }

        var generated = false;
        if (string.IsNullOrEmpty(GetString(metadata, "name")) && GetString(metadata, "generateName") is { Length: > 0 } prefix)
        {
            metadata["name"] = prefix + RandomSuffix();
            generated = true;
        }

        if (resource.Namespaced)
        {
            await CheckNamespaceAsync(resource, scope.Namespace!, GetString(metadata, "name") ?? string.Empty, cancellationToken);
        }

        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = Now();
        metadata.Remove("resourceVersion");
        metadata.Remove("deletionTimestamp");
        metadata.Remove("deletionGracePeriodSeconds");
        metadata.Remove("selfLink");
        if (resource.Strategy.TracksGeneration)
        {
            metadata["generation"] = 1;
        }
        else
        {
            metadata.Remove("generation");
        }

        if (resource.HasSubresource("status"))
        {
            obj.Remove("status");
        }

        resource.Strategy.PrepareForCreate(obj);
        resource.Strategy.ApplyDefaults(obj);
        options.RecordFields?.Invoke(obj, null);
        var errors = new List<FieldError>();
        ValidateMeta(resource, metadata, errors);
        resource.Strategy.Validate(obj, errors);
        ThrowIfInvalid(resource, obj, errors);

        var name = GetString(metadata, "name")!;
        var key = resource.Key(scope.Namespace, name);
        var hooks = resource.Hooks;
        if (options.DryRun)
        {
            if (await ReadAsync(key, cancellationToken) is not null)
            {
                throw StatusException.AlreadyExists(resource.GroupResource, name);
            }

            if (hooks is not null)
            {
                await hooks.BeforeCreateAsync(key, obj, dryRun: true, cancellationToken);
            }

            return CachedObject.FromObject(key, obj, 0, 0);
        }

        // A generated name that is taken is drawn again, up to eight names in all (kube's RetryGenerateName).
        for (var attempt = 1; ; attempt++)
        {
            var undo = hooks is null ? null : await hooks.BeforeCreateAsync(key, obj, dryRun: false, cancellationToken);
            WriteResult result;
            var stored = ToStored(obj);
            try
            {
                result = await Guard(() => store.CreateAsync(key, stored, 0, cancellationToken));
            }
            catch when (undo is not null)
            {
                await undo();
                throw;
            }

            if (result.Status != WriteStatus.AlreadyExists)
            {
                return CachedObject.FromStored(key, stored, result.Revision, result.Revision);
            }

            if (undo is not null)
            {
                await undo();
            }

            if (!generated || attempt == MaxGeneratedNameAttempts)
            {
                // kubernetes answers a generated-name collision it could not avoid with a retryable AlreadyExists.
                throw StatusException.AlreadyExists(resource.GroupResource, name, retryAfterSeconds: generated ? 1 : null);
            }

            name = GetString(metadata, "generateName") + RandomSuffix();
            metadata["name"] = name;
            key = resource.Key(scope.Namespace, name);
        }
    }

    /// <summary>Five characters of kube's name-suffix alphabet (no vowels, no look-alikes).</summary>
    internal static string RandomSuffix() =>
        string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = NameSuffixAlphabet[RandomNumberGenerator.GetInt32(NameSuffixAlphabet.Length)];
            }
        });

    /// <summary>apiVersion and kind in the body must name this resource (filled in when absent).</summary>
    private static void CheckTypeMeta(ResourceDefinition resource, JsonObject obj)
    {
        var apiVersion = GetString(obj, "apiVersion");
        var kind = GetString(obj, "kind");
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != resource.GroupVersion)
        {
            throw StatusException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({resource.GroupVersion})");
        }

        if (!string.IsNullOrEmpty(kind) && kind != resource.Kind)
        {
            throw StatusException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({resource.Kind})");
        }

        // Keep apiVersion and kind first, as kubernetes writes them.
        obj.Remove("apiVersion");
        obj.Remove("kind");
        obj.Insert(0, "apiVersion", resource.GroupVersion);
        obj.Insert(1, "kind", resource.Kind);
    }

    /// <summary>Kubernetes' NamespaceLifecycle admission: the namespace must exist and not be terminating.</summary>
    private async Task CheckNamespaceAsync(ResourceDefinition resource, string @namespace, string name, CancellationToken cancellationToken)
    {
        var key = $"/registry/namespaces/{@namespace}";
        var ns = caches.Find("/registry/namespaces/")?.Objects.GetValueOrDefault(key) ?? await ReadAsync(key, cancellationToken);
        if (ns is null)
        {
            throw StatusException.NotFound("namespaces", @namespace);
        }

        var metadata = ns.Object["metadata"] as JsonObject;
        var phase = (ns.Object["status"] as JsonObject)?["phase"]?.GetValue<string>();
        if (metadata?["deletionTimestamp"] is not null || phase == "Terminating")
        {
            throw StatusException.NamespaceTerminating(resource.GroupResource, name, @namespace);
        }
    }

    private static void ValidateMeta(ResourceDefinition resource, JsonObject metadata, List<FieldError> errors) =>
        errors.AddRange(Names.ValidateObjectMeta(metadata, resource.Namespaced, resource.Strategy.ValidateName, FieldPath.Root("metadata")));

    private static void ThrowIfInvalid(ResourceDefinition resource, JsonObject obj, List<FieldError> errors)
    {
        if (errors.Count > 0)
        {
            var name = GetString(obj["metadata"] as JsonObject, "name") ?? string.Empty;
            throw StatusException.Invalid(resource.Group, resource.Kind, name, errors);
        }
    }
}
