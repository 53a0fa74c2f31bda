using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// How the workload controllers delete their pods: all at once, each pinned to its UID, a
/// SuccessfulDelete event on the owner for each. The caller has expected the deletions
/// (<see cref="Expectations.Expect"/>); a delete that fails will never be seen, so it is no longer
/// waited for (kube lowers on every error). A pod already gone or replaced is no failure; anything
/// else fails the sync once the rest are done.
/// </summary>
public static class PodDeletions
{
    public static async Task DeleteAsync(IKubernetes client, EventRecorder events, Expectations expectations, string key, IKubernetesObject<V1ObjectMeta> owner, IReadOnlyCollection<V1Pod> pods, CancellationToken cancellationToken)
    {
        await Task.WhenAll(pods.Select(async pod =>
        {
            try
            {
                await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
                events.Record(owner, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
            }
            catch (Exception e)
            {
                expectations.DeletionObserved(key, pod.Metadata.Uid);
                if (e is not HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound or HttpStatusCode.Conflict })
                {
                    throw;
                }
            }
        }));
    }
}
