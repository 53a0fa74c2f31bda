using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.CronJob;

/// <summary>A CronJob's status as one reconcile changes it, written back once.</summary>
public sealed partial class CronJobController
{
    private sealed class Status(V1CronJob cronJob)
    {
        public List<V1ObjectReference> Active { get; } = [.. cronJob.Status?.Active ?? []];

        public DateTimeOffset? LastScheduleTime { get; set; } = Utc(cronJob.Status?.LastScheduleTime);

        public DateTimeOffset? LastSuccessfulTime { get; set; } = Utc(cronJob.Status?.LastSuccessfulTime);

        private static DateTimeOffset? Utc(DateTime? time) => time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

        /// <summary>
        /// Active holds exactly the owned Jobs still running: finished ones leave (a success moves the
        /// last successful time), unknown running ones join, and ones the API no longer has leave.
        /// </summary>
        public async Task ReconcileAsync(IKubernetes client, List<V1Job> jobs, EventRecorder events, V1CronJob owner, CancellationToken cancellationToken)
        {
            foreach (var reference in Active.ToList())
            {
                var job = jobs.FirstOrDefault(j => j.Metadata.Uid == reference.Uid);
                if (job is null)
                {
                    // Not in the cache yet, or gone: ask the API.
                    var live = await ApiCalls.ReadOrNullAsync(client.BatchV1.ReadNamespacedJobAsync(reference.Name, owner.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
                    if (live is null || live.Metadata.Uid != reference.Uid)
                    {
                        Active.Remove(reference);
                        continue;
                    }

                    job = live;
                }

                if (IsFinished(job, out var type))
                {
                    Active.Remove(reference);
                    events.Record(owner, EventRecorder.Normal, "SawCompletedJob", $"Saw completed job: {job.Metadata.Name}, condition: {type}");
                    if (type == "Complete" && Utc(job.Status?.CompletionTime) is { } done && (LastSuccessfulTime is null || done > LastSuccessfulTime))
                    {
                        LastSuccessfulTime = done;
                    }
                }
            }

            foreach (var job in jobs.Where(j => !IsFinished(j, out _) && j.Metadata.DeletionTimestamp is null && Active.All(r => r.Uid != j.Metadata.Uid)))
            {
                Active.Add(new V1ObjectReference { ApiVersion = "batch/v1", Kind = "Job", Name = job.Metadata.Name, NamespaceProperty = job.Metadata.NamespaceProperty, Uid = job.Metadata.Uid, ResourceVersion = job.Metadata.ResourceVersion });
            }
        }

        public async Task SaveAsync(IKubernetes client, V1CronJob cronJob, CancellationToken cancellationToken)
        {
            var old = cronJob.Status;
            if (Active.Select(r => r.Uid).SequenceEqual((old?.Active ?? []).Select(r => r.Uid))
                && LastScheduleTime == Utc(old?.LastScheduleTime) && LastSuccessfulTime == Utc(old?.LastSuccessfulTime))
            {
                return;
            }

            var active = new JsonArray([.. Active.Select(r => (JsonNode)new JsonObject
            {
                ["apiVersion"] = r.ApiVersion,
                ["kind"] = r.Kind,
                ["name"] = r.Name,
                ["namespace"] = r.NamespaceProperty,
                ["uid"] = r.Uid,
                ["resourceVersion"] = r.ResourceVersion,
            })]);
            var patch = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["active"] = Active.Count == 0 ? null : active,
                    ["lastScheduleTime"] = LastScheduleTime is { } scheduled ? KubeTime.Format(scheduled) : null,
                    ["lastSuccessfulTime"] = LastSuccessfulTime is { } succeeded ? KubeTime.Format(succeeded) : null,
                },
            };
            try
            {
                await client.BatchV1.PatchNamespacedCronJobStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), cronJob.Metadata.Name, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // Deleted meanwhile.
            }
        }
    }
}
