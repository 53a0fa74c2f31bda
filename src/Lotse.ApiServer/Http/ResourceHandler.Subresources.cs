using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

public sealed partial class ResourceHandler
{
    private async Task SubresourceAsync(HttpContext context, RequestScope scope, string subresource, CancellationToken ct)
    {
        var request = context.Request;
        switch (subresource, request.Method)
        {
            case ("scale", "GET"):
                var obj = await objects.GetAsync(scope, request.Query["resourceVersion"], ct);
                await ResponseWriter.WriteJsonAsync(context.Response, 200, Scale(scope.Resource, obj), ct);
                return;
            case ("scale", "PUT" or "PATCH"):
                await UpdateScaleAsync(context, scope, ct);
                return;
            case ("binding", "POST"):
                await BindAsync(context, scope, await RequestBody.ReadObjectAsync(request, ct), ct);
                return;
            case ("eviction", "POST"):
                await EvictAsync(context, scope, ct);
                return;
            case ("token", "POST"):
                var answer = await reviews.TokenRequestAsync(scope, await RequestBody.ReadObjectAsync(request, ct), ct);
                await ResponseWriter.WriteJsonAsync(context.Response, 201, answer, ct);
                return;
            case ("finalize", "PUT"):
                await FinalizeNamespaceAsync(context, scope, ct);
                return;
            case ("log", "GET"):
                await PodLogAsync(context, scope, ct);
                return;
            case ("exec" or "attach" or "portforward", "GET" or "POST") when scope.Resource.Kind == "Pod":
                await PodStreamAsync(context, scope, subresource, ct);
                return;
            case ("proxy", _):
                throw StatusException.ServiceUnavailable($"{subresource} for {scope.Resource.Plural} \"{scope.Name}\" is not available yet");
            default:
                throw StatusException.MethodNotSupported($"{scope.Resource.GroupResource}/{subresource}", request.Method);
        }
    }

    /// <summary>The query parameters of pods/log the node agent understands, passed through as given.</summary>
    private static readonly string[] LogParameters = ["follow", "tailLines", "timestamps", "sinceSeconds", "sinceTime", "limitBytes", "previous"];

    private static readonly string[] ContainerLists = ["containers", "initContainers", "ephemeralContainers"];

    /// <summary>
    /// pods/log: the container is checked here, in kube's words, then the pod's node agent streams
    /// the log (<c>/containerLogs/{namespace}/{pod}/{container}</c>).
    /// </summary>
    private async Task PodLogAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var (pod, container) = await PodContainerAsync(context, scope, ct);
        var node = await PodNodeAsync(scope, pod, ct);
        var query = string.Join('&', LogParameters.Where(p => context.Request.Query.ContainsKey(p)).Select(p => $"{p}={Uri.EscapeDataString(context.Request.Query[p].ToString())}"));
        var path = $"/containerLogs/{Uri.EscapeDataString(scope.Namespace!)}/{Uri.EscapeDataString(scope.Name!)}/{Uri.EscapeDataString(container)}{(query.Length > 0 ? "?" + query : string.Empty)}";
        await nodes.ForwardGetAsync(context, node, path, ct);
    }

    /// <summary>
    /// pods/exec, pods/attach, pods/portforward: checked here in kube's words (an upgrade request, a
    /// command, a pod that has not finished), then the connection is relayed to the node agent's
    /// <c>/exec</c>, <c>/attach</c> or <c>/portForward</c>, whatever protocol the client speaks.
    /// </summary>
    private async Task PodStreamAsync(HttpContext context, RequestScope scope, string subresource, CancellationToken ct)
    {
        if (!Lotse.Streaming.Http.UpgradeForwarder.IsUpgrade(context.Request))
        {
            throw StatusException.BadRequest("Upgrade request required");
        }

        var ns = Uri.EscapeDataString(scope.Namespace!);
        var name = Uri.EscapeDataString(scope.Name!);
        JsonObject pod;
        string path;
        if (subresource == "portforward")
        {
            pod = (await objects.GetAsync(scope with { Subresource = null }, null, ct)).Object;
            path = $"/portForward/{ns}/{name}";
        }
        else
        {
            (pod, var container) = await PodContainerAsync(context, scope, ct);
            if (subresource == "exec" && context.Request.Query["command"].Count == 0)
            {
                throw StatusException.BadRequest("you must specify at least 1 command");
            }

            path = $"/{subresource}/{ns}/{name}/{Uri.EscapeDataString(container)}";
        }

        if (pod["status"]?["phase"]?.GetValue<string>() is "Succeeded" or "Failed" && subresource != "portforward")
        {
            var verb = subresource == "exec" ? "exec into" : "attach to";
            throw StatusException.BadRequest($"cannot {verb} a container in a completed pod; current phase is {pod["status"]!["phase"]}");
        }

        var node = await PodNodeAsync(scope, pod, ct);
        await nodes.ForwardUpgradeAsync(context, node, path + context.Request.QueryString.Value, ct);
    }

    /// <summary>The pod and the container a request names (its <c>container</c> parameter, or the pod's only container), in kube's words when it names none that exists.</summary>
    private async Task<(JsonObject Pod, string Container)> PodContainerAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var pod = (await objects.GetAsync(scope with { Subresource = null }, null, ct)).Object;
        var spec = pod["spec"] as JsonObject;
        var names = ContainerLists
            .SelectMany(list => (spec?[list] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>()).OfType<string>())
            .ToList();
        var container = context.Request.Query["container"].ToString();
        if (container.Length == 0)
        {
            var regular = (spec?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>()).OfType<string>().ToList();
            container = regular.Count == 1
                ? regular[0]
                : throw StatusException.BadRequest($"a container name must be specified for pod {scope.Name}, choose one of: [{string.Join(' ', regular)}]");
        }
        else if (!names.Contains(container))
        {
            throw StatusException.BadRequest($"container {container} is not valid for pod {scope.Name}");
        }

        return (pod, container);
    }

    /// <summary>The Node object of the node a pod runs on; a pod not yet placed is a 400 as in kube.</summary>
    private async Task<JsonObject> PodNodeAsync(RequestScope scope, JsonObject pod, CancellationToken ct)
    {
        var nodeName = pod["spec"]?["nodeName"]?.GetValue<string>();
        if (string.IsNullOrEmpty(nodeName))
        {
            throw StatusException.BadRequest($"pod {scope.Name} does not have a host assigned");
        }

        var nodesResource = registry.Find("", "v1", "nodes")!;
        return (await objects.GetAsync(new RequestScope(nodesResource, null, nodeName), null, ct)).Object;
    }

    /// <summary>autoscaling/v1 Scale view of a scalable object.</summary>
    private static JsonObject Scale(ResourceDefinition resource, CachedObject obj)
    {
        var metadata = (JsonObject)obj.Object["metadata"]!;
        var spec = obj.Object["spec"] as JsonObject;
        var status = obj.Object["status"] as JsonObject;
        var selector = spec?["selector"] switch
        {
            JsonObject labelSelector when labelSelector.ContainsKey("matchLabels") || labelSelector.ContainsKey("matchExpressions") => Selectors.LabelSelector.FromLabelSelectorJson(labelSelector).ToString(),
            JsonObject plain => string.Join(",", plain.Select(kv => $"{kv.Key}={kv.Value}")), // replicationcontrollers: a plain map
            _ => null,
        };
        var scaleStatus = new JsonObject { ["replicas"] = status?["replicas"].AsInt64() ?? 0 };
        if (!string.IsNullOrEmpty(selector))
        {
            scaleStatus["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = metadata["name"]?.DeepClone(),
                ["namespace"] = metadata["namespace"]?.DeepClone(),
                ["uid"] = metadata["uid"]?.DeepClone(),
                ["resourceVersion"] = metadata["resourceVersion"]?.DeepClone(),
                ["creationTimestamp"] = metadata["creationTimestamp"]?.DeepClone(),
            },
            ["spec"] = new JsonObject { ["replicas"] = spec?["replicas"].AsInt64() ?? 0 },
            ["status"] = scaleStatus,
        };
    }

    private async Task UpdateScaleAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var options = WriteOptionsOf(request);
        Patcher? patcher = null;
        string manager;
        JsonObject? body = null;
        if (request.Method == "PATCH")
        {
            patcher = await Patcher.ReadAsync(request, ScaleResource, ct);
            manager = patcher.Manager;
        }
        else
        {
            manager = Patcher.FieldManager(request, "UpdateOptions");
            body = await RequestBody.ReadObjectAsync(request, ct);
        }

        options = options with { RecordFields = Recorder(scope, manager) };
        var parent = scope with { Subresource = null };
        var (updated, _) = await objects.UpdateAsync(parent, current =>
        {
            if (current is null)
            {
                throw StatusException.NotFound(scope.Resource.GroupResource, scope.Name!);
            }

            var scale = Scale(scope.Resource, current);
            var desired = patcher is not null ? patcher.Apply(CachedObject.FromObject(current.Key, scale, current.Revision, current.CreateRevision)) : body!;
            var pinned = ObjectStore.GetString(desired["metadata"] as JsonObject, "resourceVersion");
            var replicas = desired["spec"]?["replicas"];
            if (replicas.AsInt64() is not { } count || count < 0)
            {
                throw StatusException.Invalid("autoscaling", "Scale", scope.Name!, [FieldError.Invalid(FieldPath.Root("spec").Child("replicas"), replicas?.ToJsonString() ?? "null", "must be greater than or equal to 0")]);
            }

            var next = current.CloneObject();
            if (next["spec"] is not JsonObject spec)
            {
                spec = [];
                next["spec"] = spec;
            }

            spec["replicas"] = count;
            ObjectStore.Metadata(next)["resourceVersion"] = pinned;
            return next;
        }, options, ct);
        await ResponseWriter.WriteJsonAsync(context.Response, 200, Scale(scope.Resource, updated), ct);
    }

    private static readonly ResourceDefinition ScaleResource = new()
    {
        Group = "autoscaling",
        Version = "v1",
        Kind = "Scale",
        Plural = "scale",
        Singular = "scale",
        Namespaced = true,
    };

    /// <summary>pods/binding: the scheduler's (or a user's) assignment of a pod to a node.</summary>
    private async Task BindAsync(HttpContext context, RequestScope scope, JsonObject binding, CancellationToken ct)
    {
        var target = binding["target"] as JsonObject;
        var node = ObjectStore.GetString(target, "name");
        if (string.IsNullOrEmpty(node))
        {
            throw StatusException.Invalid("", "Binding", scope.Name!, [FieldError.Required(FieldPath.Root("target").Child("name"), "")]);
        }

        // One write, as kube's assignPod: the node and the PodScheduled=True condition together.
        await objects.UpdateAsync(scope, current =>
        {
            if (current is null)
            {
                throw StatusException.NotFound("pods", scope.Name!);
            }

            var next = current.CloneObject();
            if (next["metadata"]?["deletionTimestamp"] is not null)
            {
                throw StatusException.Conflict("pods", scope.Name!, $"pod {scope.Name} is being deleted, cannot be assigned to a host");
            }

            var spec = next["spec"] as JsonObject ?? [];
            var assigned = ObjectStore.GetString(spec, "nodeName");
            if (!string.IsNullOrEmpty(assigned))
            {
                throw StatusException.Conflict("pods", scope.Name!, $"pod {scope.Name} is already assigned to node \"{assigned}\"");
            }

            spec["nodeName"] = node;
            next["spec"] = spec;
            var status = next["status"] as JsonObject ?? [];
            var conditions = status["conditions"] as JsonArray ?? [];
            var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => ObjectStore.GetString(c, "type") == "PodScheduled");
            if (existing is not null)
            {
                conditions.Remove(existing);
            }

            conditions.Add(new JsonObject
            {
                ["type"] = "PodScheduled",
                ["status"] = "True",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = Timestamp(),
            });
            status["conditions"] = conditions;
            next["status"] = status;
            return next;
        }, WriteOptionsOf(context.Request), ct);

        await WriteCreatedStatusAsync(context, ct);
    }

    /// <summary>The 201 Success Status kube answers a binding or an eviction with.</summary>
    private static Task WriteCreatedStatusAsync(HttpContext context, CancellationToken ct) =>
        ResponseWriter.WriteJsonAsync(context.Response, 201, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["code"] = 201,
        }, ct);

    /// <summary>namespaces/{name}/finalize: replaces spec.finalizers (the namespace controller's last step).</summary>
    private async Task FinalizeNamespaceAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, ct);
        var (updated, _) = await objects.UpdateAsync(scope, current =>
        {
            var next = current?.CloneObject() ?? throw StatusException.NotFound("namespaces", scope.Name!);
            var spec = next["spec"] as JsonObject ?? [];
            spec["finalizers"] = body["spec"]?["finalizers"]?.DeepClone() ?? new JsonArray();
            next["spec"] = spec;
            return next;
        }, WriteOptionsOf(context.Request), ct);
        await writer.WriteObjectAsync(context.Response, 200, scope.Resource, updated, Format(context.Request, list: false), null, ct);
    }
}
