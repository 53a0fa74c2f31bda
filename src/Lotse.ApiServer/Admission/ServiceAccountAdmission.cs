using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;

namespace Lotse.ApiServer.Admission;

/// <summary>
/// Kubernetes' ServiceAccount admission for new pods. The pod's service account (<c>default</c>
/// unless named) must exist — a missing <c>default</c> is looked up again for about two seconds,
/// since the controller-manager creates it with the namespace —, else the pod is refused (403).
/// Unless the pod or its account turns <c>automountServiceAccountToken</c> off, every container
/// and init container gets a read-only <c>kube-api-access-xxxxx</c> projected volume at
/// <c>/var/run/secrets/kubernetes.io/serviceaccount</c> (a bound token, the cluster CA from the
/// <c>kube-root-ca.crt</c> ConfigMap and the namespace); a container that already mounts something
/// there keeps it. A pod without imagePullSecrets gets its account's. Mirror pods are left alone.
/// </summary>
/// <param name="lookup">Reads a ServiceAccount (namespace, name): the watch cache, then the store.</param>
public sealed class ServiceAccountAdmission(Func<string, string, CancellationToken, Task<JsonObject?>> lookup, TimeProvider time) : IObjectHooks
{
    /// <summary>The plugin's name, for <c>--disable-admission-plugins</c>.</summary>
    public const string PluginName = "ServiceAccount";

    public const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    public const string VolumePrefix = "kube-api-access-";

    /// <summary>kube's bound token lifetime for this volume: an hour and a little jitter.</summary>
    public const int TokenExpirationSeconds = 3607;

    private const string DefaultAccount = "default";

    private const int DefaultAccountAttempts = 10;

    public async Task<Func<Task>?> BeforeCreateAsync(string key, JsonObject obj, bool dryRun, CancellationToken cancellationToken)
    {
        if (obj["spec"] is not JsonObject spec || obj["metadata"] is not JsonObject metadata
            || metadata["annotations"]?["kubernetes.io/config.mirror"] is not null)
        {
            return null;
        }

        var ns = metadata["namespace"]?.GetValue<string>() ?? string.Empty;
        var pod = metadata["name"]?.GetValue<string>() ?? string.Empty;
        var name = spec["serviceAccountName"]?.GetValue<string>() is { Length: > 0 } given ? given : DefaultAccount;
        spec["serviceAccountName"] = name;
        spec["serviceAccount"] = name;
        var account = await FindAsync(ns, name, cancellationToken)
            ?? throw StatusException.Forbidden($"pods \"{pod}\" is forbidden: error looking up service account {ns}/{name}: serviceaccount \"{name}\" not found");

        if (ShouldMount(spec, account))
        {
            MountToken(spec);
        }

        if (spec["imagePullSecrets"] is not JsonArray { Count: > 0 } && account["imagePullSecrets"] is JsonArray { Count: > 0 } secrets)
        {
            spec["imagePullSecrets"] = new JsonArray([.. secrets.OfType<JsonObject>().Select(s => (JsonNode)new JsonObject { ["name"] = s["name"]?.DeepClone() })]);
        }

        return null;
    }

    private async Task<JsonObject?> FindAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var attempts = name == DefaultAccount ? DefaultAccountAttempts : 1;
        for (var attempt = 1; ; attempt++)
        {
            if (await lookup(ns, name, cancellationToken) is { } account)
            {
                return account;
            }

            if (attempt == attempts)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 + Random.Shared.Next(100)), time, cancellationToken);
        }
    }

    /// <summary>The pod's own setting wins over its account's; both unset means mount.</summary>
    private static bool ShouldMount(JsonObject spec, JsonObject account) =>
        (spec["automountServiceAccountToken"] ?? account["automountServiceAccountToken"]) is not JsonValue value || value.GetValue<bool>();

    private static void MountToken(JsonObject spec)
    {
        var volumes = spec["volumes"] as JsonArray;
        var existing = volumes?.OfType<JsonObject>().Select(v => v["name"]?.GetValue<string>()).FirstOrDefault(n => n?.StartsWith(VolumePrefix, StringComparison.Ordinal) == true);
        var volumeName = existing ?? VolumePrefix + ObjectStore.RandomSuffix();
        var needed = false;
        foreach (var list in (string[])["initContainers", "containers"])
        {
            foreach (var container in (spec[list] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                var mounts = container["volumeMounts"] as JsonArray;
                if (mounts?.OfType<JsonObject>().Any(m => m["mountPath"]?.GetValue<string>() == MountPath) == true)
                {
                    continue;
                }

                if (mounts is null)
                {
                    container["volumeMounts"] = mounts = [];
                }

                mounts.Add(new JsonObject { ["name"] = volumeName, ["readOnly"] = true, ["mountPath"] = MountPath });
                needed = true;
            }
        }

        if (existing is null && needed)
        {
            if (volumes is null)
            {
                spec["volumes"] = volumes = [];
            }

            volumes.Add(TokenVolume(volumeName));
        }
    }

    private static JsonObject TokenVolume(string name) => new()
    {
        ["name"] = name,
        ["projected"] = new JsonObject
        {
            ["defaultMode"] = 420,
            ["sources"] = new JsonArray(
                new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = TokenExpirationSeconds, ["path"] = "token" } },
                new JsonObject
                {
                    ["configMap"] = new JsonObject
                    {
                        ["name"] = "kube-root-ca.crt",
                        ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }),
                    },
                },
                new JsonObject
                {
                    ["downwardAPI"] = new JsonObject
                    {
                        ["items"] = new JsonArray(new JsonObject
                        {
                            ["path"] = "namespace",
                            ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                        }),
                    },
                }),
        },
    };

    public Task<Func<Task>?> BeforeUpdateAsync(string key, JsonObject obj, JsonObject old, bool dryRun, CancellationToken cancellationToken) =>
        Task.FromResult<Func<Task>?>(null);

    public Task AfterUpdateAsync(string key, JsonObject obj, JsonObject old, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AfterDeleteAsync(string key, JsonObject obj, CancellationToken cancellationToken) => Task.CompletedTask;
}
