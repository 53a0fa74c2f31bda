using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Lotse.Agent.Node;

/// <summary>The API calls every node agent makes for its Node and Lease — shared by the real agent and the hollow nodes.</summary>
public static class NodeApi
{
    public const string LeaseNamespace = "kube-node-lease";

    /// <summary>Creates the Node, or — registered before — keeps it (its status is written next).</summary>
    public static async Task RegisterAsync(IKubernetes client, V1Node node, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.CreateNodeAsync(node, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Registered before (a restart): the status written next makes it ours again.
        }
    }

    public static Task PatchStatusAsync(IKubernetes client, string name, JsonObject status, CancellationToken cancellationToken) =>
        client.CoreV1.PatchNodeStatusAsync(new V1Patch(new JsonObject { ["status"] = status }.ToJsonString(), V1Patch.PatchType.MergePatch), name, cancellationToken: cancellationToken);

    public static JsonObject Condition(string type, string status, string reason, string message, string heartbeat, string? transition = null) => new()
    {
        ["type"] = type,
        ["status"] = status,
        ["lastHeartbeatTime"] = heartbeat,
        ["lastTransitionTime"] = transition ?? heartbeat,
        ["reason"] = reason,
        ["message"] = message,
    };

    /// <summary>The kubelet's four node conditions in its words: memory, disk and PID pressure as measured, and Ready as given.</summary>
    public static JsonArray Conditions(Func<string, string, string, string, JsonObject> condition, bool ready, string reason = "KubeletReady", string message = "kubelet is posting ready status", (bool Memory, bool Disk, bool Pid) pressure = default) => new(
        pressure.Memory
            ? condition("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
            : condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        pressure.Disk
            ? condition("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure")
            : condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        pressure.Pid
            ? condition("PIDPressure", "True", "KubeletHasInsufficientPID", "kubelet has insufficient PID available")
            : condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", ready ? "True" : "False", reason, message));

    /// <summary>Kubernetes' second-precision time format.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Renews the node's Lease in <c>kube-node-lease</c> (creating it the first time), as the kubelet does every 10 s.</summary>
    public static async Task RenewLeaseAsync(IKubernetes client, string name, bool first, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var renew = now.UtcDateTime;
        if (first)
        {
            try
            {
                await client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = name },
                    Spec = new V1LeaseSpec { HolderIdentity = name, LeaseDurationSeconds = 40, RenewTime = renew },
                }, LeaseNamespace, cancellationToken: cancellationToken);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // There from an earlier run: renew it.
            }
        }

        var patch = new JsonObject { ["spec"] = new JsonObject { ["holderIdentity"] = name, ["renewTime"] = renew.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture) } };
        await client.CoordinationV1.PatchNamespacedLeaseAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name, LeaseNamespace, cancellationToken: cancellationToken);
    }
}
