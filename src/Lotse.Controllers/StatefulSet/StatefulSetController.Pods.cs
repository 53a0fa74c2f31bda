using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Events;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.StatefulSet;

/// <summary>A StatefulSet's pods and claims: their names, identity and revision.</summary>
public sealed partial class StatefulSetController
{
    private async Task CreatePodAsync(V1StatefulSet set, int ordinal, V1ControllerRevision revision, CancellationToken cancellationToken)
    {
        await EnsureClaimsAsync(set, ordinal, cancellationToken);
        var pod = NewPod(set, ordinal, revision);
        try
        {
            await _client.CoreV1.CreateNamespacedPodAsync(pod, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _events.Record(set, EventRecorder.Normal, "SuccessfulCreate", $"create Pod {pod.Metadata.Name} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made by an earlier round whose watch event has not arrived yet.
        }
        catch (HttpOperationException e)
        {
            LogCreateFailed(Logger, set.Metadata.NamespaceProperty, pod.Metadata.Name, (int)e.Response.StatusCode, e.Response.Content);
            _events.Record(set, EventRecorder.Warning, "FailedCreate", $"create Pod {pod.Metadata.Name} in StatefulSet {set.Metadata.Name} failed error: {ApiCalls.StatusMessage(e)}");
            throw;
        }
    }

    /// <summary>kube's newVersionedStatefulSetPod: the revision's template with the pod's identity, its claims mounted in place of template volumes of the same name.</summary>
    internal static V1Pod NewPod(V1StatefulSet set, int ordinal, V1ControllerRevision revision)
    {
        var template = TemplateOf(revision) ?? set.Spec.Template;
        var name = $"{set.Metadata.Name}-{ordinal}";
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            [PodNameLabel] = name,
            [PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture),
            [ControllerHistory.HashLabel] = revision.Metadata.Name,
        };
        var spec = template.Spec;
        spec.Hostname = name;
        if (!string.IsNullOrEmpty(set.Spec.ServiceName))
        {
            spec.Subdomain = set.Spec.ServiceName;
        }

        foreach (var claim in set.Spec.VolumeClaimTemplates ?? [])
        {
            var volumes = spec.Volumes ?? [];
            volumes = [.. volumes.Where(v => v.Name != claim.Metadata.Name)];
            volumes.Add(new V1Volume { Name = claim.Metadata.Name, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(set, claim, ordinal) } });
            spec.Volumes = volumes;
        }

        return new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = labels,
                Annotations = template.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                Finalizers = template.Metadata?.Finalizers,
                OwnerReferences = [Owners.ControllerReference(set, ApiVersion, Kind)],
            },
            Spec = spec,
        };
    }

    /// <summary>The pod template a revision holds (its data is the patch that restores it); a copy the caller may change.</summary>
    private static V1PodTemplateSpec? TemplateOf(V1ControllerRevision revision)
    {
        if (revision.Data is null || JsonNode.Parse(KubernetesJson.Serialize(revision.Data))?["spec"]?["template"] is not JsonObject template)
        {
            return null;
        }

        template.Remove("$patch");
        return KubernetesJson.Deserialize<V1PodTemplateSpec>(template.ToJsonString());
    }

    internal static string ClaimName(V1StatefulSet set, V1PersistentVolumeClaim template, int ordinal) =>
        $"{template.Metadata.Name}-{set.Metadata.Name}-{ordinal}";

    /// <summary>
    /// Creates the pod's claims that do not exist yet, labelled with the set's selector; with
    /// <c>persistentVolumeClaimRetentionPolicy.whenDeleted: Delete</c> they are owned by the set and go with it.
    /// </summary>
    private async Task EnsureClaimsAsync(V1StatefulSet set, int ordinal, CancellationToken cancellationToken)
    {
        foreach (var template in set.Spec.VolumeClaimTemplates ?? [])
        {
            var name = ClaimName(set, template, ordinal);
            if (_claims.Get(set.Metadata.NamespaceProperty, name) is not null)
            {
                continue;
            }

            var labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>());
            foreach (var (key, value) in set.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>())
            {
                labels[key] = value;
            }

            var claim = new V1PersistentVolumeClaim
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    Labels = labels,
                    Annotations = template.Metadata.Annotations,
                    OwnerReferences = set.Spec.PersistentVolumeClaimRetentionPolicy?.WhenDeleted == "Delete"
                        ? [new V1OwnerReference { ApiVersion = ApiVersion, Kind = Kind, Name = set.Metadata.Name, Uid = set.Metadata.Uid, BlockOwnerDeletion = true }]
                        : null,
                },
                Spec = template.Spec,
            };
            try
            {
                await _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(claim, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                _events.Record(set, EventRecorder.Normal, "SuccessfulCreate", $"create Claim {name} Pod {set.Metadata.Name}-{ordinal} in StatefulSet {set.Metadata.Name} success");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Exists already (made earlier, or by the user to be reused).
            }
            catch (HttpOperationException e)
            {
                _events.Record(set, EventRecorder.Warning, "FailedCreate", $"create Claim {name} for Pod {set.Metadata.Name}-{ordinal} in StatefulSet {set.Metadata.Name} failed error: {ApiCalls.StatusMessage(e)}");
                throw;
            }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "statefulset {Namespace}: creating pod {Name} failed ({Code}): {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string @namespace, string name, int code, string error);
}
