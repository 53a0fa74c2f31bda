using System.Text.Json.Nodes;
using Lotse.ApiServer.Allocation;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;

namespace Lotse.ApiServer;

/// <summary>
/// What kube-apiserver itself keeps in place: the system namespaces and the <c>default/kubernetes</c>
/// Service with its Endpoints and EndpointSlice pointing at this server. Idempotent: existing objects
/// are left alone, except the endpoints, which follow the advertised address and port.
/// </summary>
public static class Bootstrap
{
    public static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    public static async Task EnsureAsync(ResourceRegistry registry, ObjectStore objects, ServiceAllocator allocator, string advertiseAddress, int port, CancellationToken cancellationToken)
    {
        var namespaces = registry.Find("", "v1", "namespaces")!;
        foreach (var name in SystemNamespaces)
        {
            await CreateIfAbsentAsync(objects, new RequestScope(namespaces, null, name), new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = name },
            }, cancellationToken);
        }

        var priorityClasses = registry.Find("scheduling.k8s.io", "v1", "priorityclasses")!;
        foreach (var (name, value, description) in Admission.PodPriority.SystemClasses)
        {
            await CreateIfAbsentAsync(objects, new RequestScope(priorityClasses, null, name), new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = name },
                ["value"] = value,
                ["description"] = description,
            }, cancellationToken);
        }

        var services = registry.Find("", "v1", "services")!;
        var serviceScope = new RequestScope(services, "default", "kubernetes");
        var clusterIp = allocator.FirstAddress;
        await allocator.TryClaimIpAsync(clusterIp, serviceScope.Key, cancellationToken);
        await CreateIfAbsentAsync(objects, serviceScope, new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = "kubernetes",
                ["namespace"] = "default",
                ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" },
            },
            ["spec"] = new JsonObject
            {
                ["type"] = "ClusterIP",
                ["clusterIP"] = clusterIp,
                ["clusterIPs"] = new JsonArray(clusterIp),
                ["sessionAffinity"] = "None",
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = port }),
            },
        }, cancellationToken);

        var endpoints = registry.Find("", "v1", "endpoints")!;
        await CreateOrReplaceAsync(objects, new RequestScope(endpoints, "default", "kubernetes"), new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = "kubernetes",
                ["namespace"] = "default",
                ["labels"] = new JsonObject { ["endpointslice.kubernetes.io/skip-mirror"] = "true" },
            },
            ["subsets"] = new JsonArray(new JsonObject
            {
                ["addresses"] = new JsonArray(new JsonObject { ["ip"] = advertiseAddress }),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
            }),
        }, cancellationToken);

        if (registry.Find("discovery.k8s.io", "v1", "endpointslices") is { } slices)
        {
            await CreateOrReplaceAsync(objects, new RequestScope(slices, "default", "kubernetes"), new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = "kubernetes",
                    ["namespace"] = "default",
                    ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes" },
                },
                ["addressType"] = advertiseAddress.Contains(':', StringComparison.Ordinal) ? "IPv6" : "IPv4",
                ["endpoints"] = new JsonArray(new JsonObject
                {
                    ["addresses"] = new JsonArray(advertiseAddress),
                    ["conditions"] = new JsonObject { ["ready"] = true },
                }),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
            }, cancellationToken);
        }
    }

    private static async Task CreateIfAbsentAsync(ObjectStore objects, RequestScope scope, JsonObject obj, CancellationToken cancellationToken)
    {
        try
        {
            await objects.CreateAsync(scope with { Name = null }, obj, WriteOptions.Default, cancellationToken);
        }
        catch (StatusException ex) when (ex.Code == 409)
        {
            // already there
        }
    }

    private static async Task CreateOrReplaceAsync(ObjectStore objects, RequestScope scope, JsonObject obj, CancellationToken cancellationToken)
    {
        try
        {
            await objects.CreateAsync(scope with { Name = null }, (JsonObject)obj.DeepClone(), WriteOptions.Default, cancellationToken);
        }
        catch (StatusException ex) when (ex.Code == 409)
        {
            await objects.UpdateAsync(scope, current =>
            {
                var next = current!.CloneObject();
                foreach (var (k, v) in obj)
                {
                    if (k != "metadata")
                    {
                        next[k] = v?.DeepClone();
                    }
                }

                ObjectStore.Metadata(next).Remove("resourceVersion");
                return next;
            }, WriteOptions.Default, cancellationToken);
        }
    }
}
