using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// Kubernetes' controller history (pkg/controller/history), shared by the StatefulSet and DaemonSet
/// controllers: every pod template a parent had is kept as a ControllerRevision it controls, named
/// <c>&lt;parent&gt;-&lt;hash&gt;</c>, numbered in order of use; its data is the strategic merge patch
/// that puts the template back (<c>{"spec":{"template":{…,"$patch":"replace"}}}</c>) — what
/// <c>kubectl rollout undo</c> sends. Going back to an old template renumbers its revision rather
/// than making a new one.
/// </summary>
public sealed class ControllerHistory
{
    /// <summary>The label pods and revisions carry to say which revision they belong to.</summary>
    public const string HashLabel = "controller-revision-hash";
    private readonly IKubernetes _client;
    private readonly Informer<V1ControllerRevision> _revisions;

    public ControllerHistory(InformerFactory informers)
    {
        _client = informers.Client;
        _revisions = informers.ControllerRevisions();
        _revisions.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
    }

    public IInformer Informer => _revisions;

    /// <summary>Calls <paramref name="owner"/> with the key (<c>namespace/name</c>) of the parent of <paramref name="kind"/> controlling every revision that changes or goes.</summary>
    public void OnChange(string kind, Action<string> owner) =>
        _revisions.AddHandler(InformerHandler.ForAll<V1ControllerRevision>(r =>
        {
            if (Owners.ControllerOf(r) is { } reference && reference.Kind == kind)
            {
                owner(ObjectKey.Of(r.Metadata.NamespaceProperty, reference.Name));
            }
        }));

    /// <summary>The revisions <paramref name="parent"/> controls, oldest first.</summary>
    public List<V1ControllerRevision> Owned(IKubernetesObject<V1ObjectMeta> parent) =>
        [.. _revisions.ByIndex(Owners.OwnerUidIndex, parent.Metadata.Uid)
            .Where(r => Owners.ControllerOf(r)?.Uid == parent.Metadata.Uid)
            .OrderBy(r => r.Revision)
            .ThenBy(r => r.Metadata.CreationTimestamp)];

    /// <summary>The revision data of a pod template.</summary>
    public static JsonObject DataOf(V1PodTemplateSpec template)
    {
        var copy = JsonNode.Parse(KubernetesJson.Serialize(template))!.AsObject();
        copy["$patch"] = "replace";
        return new JsonObject { ["spec"] = new JsonObject { ["template"] = copy } };
    }

    /// <summary>The hash part of a revision's name for <paramref name="data"/>.</summary>
    public static string Hash(JsonObject data, int? collisionCount) =>
        SafeHash.Of(data.ToJsonString() + (collisionCount is { } c ? $"#{c}" : string.Empty));

    /// <summary>
    /// The revision for <paramref name="template"/>: an existing one with the same data (renumbered
    /// to be the newest when it was not), or a new one numbered after the newest.
    /// </summary>
    public async Task<V1ControllerRevision> EnsureAsync(IKubernetesObject<V1ObjectMeta> parent, string apiVersion, string kind, V1PodTemplateSpec template, int? collisionCount, CancellationToken cancellationToken)
    {
        var data = DataOf(template);
        var owned = Owned(parent);
        var newest = owned.Count == 0 ? 0 : owned[^1].Revision ?? 0;
        var same = owned.LastOrDefault(r => SameData(r, data));
        if (same is not null)
        {
            return same.Revision == newest ? same : await RenumberAsync(same, newest + 1, cancellationToken);
        }

        var hash = Hash(data, collisionCount);
        var revision = new V1ControllerRevision
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{Truncate(parent.Metadata.Name)}-{hash}",
                NamespaceProperty = parent.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>()) { [HashLabel] = hash },
                Annotations = parent.Metadata.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                OwnerReferences = [Owners.ControllerReference(parent, apiVersion, kind)],
            },
            Data = data,
            Revision = newest + 1,
        };
        try
        {
            return await _client.AppsV1.CreateNamespacedControllerRevisionAsync(revision, parent.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made by an earlier round whose watch event has not arrived yet: take it if it is ours and the same.
            var existing = await _client.AppsV1.ReadNamespacedControllerRevisionAsync(revision.Metadata.Name, parent.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            if (Owners.ControllerOf(existing)?.Uid == parent.Metadata.Uid && SameData(existing, data))
            {
                return existing.Revision == newest + 1 || existing.Revision == newest ? existing : await RenumberAsync(existing, newest + 1, cancellationToken);
            }

            throw new InvalidOperationException($"controller revision {revision.Metadata.Name} exists with other data (hash collision); collisionCount must grow");
        }
    }

    /// <summary>Deletes the oldest revisions beyond <paramref name="limit"/>, never one in <paramref name="live"/> (a revision pods still run).</summary>
    public async Task TruncateAsync(IKubernetesObject<V1ObjectMeta> parent, ISet<string> live, int limit, CancellationToken cancellationToken)
    {
        var old = Owned(parent).Where(r => !live.Contains(r.Metadata.Name)).ToList();
        foreach (var revision in old.Take(Math.Max(0, old.Count - limit)))
        {
            await ApiCalls.IgnoreNotFoundAsync(_client.AppsV1.DeleteNamespacedControllerRevisionAsync(revision.Metadata.Name, revision.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }
    }

    private async Task<V1ControllerRevision> RenumberAsync(V1ControllerRevision revision, long number, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["revision"] = number };
        return await _client.AppsV1.PatchNamespacedControllerRevisionAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), revision.Metadata.Name, revision.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    private static bool SameData(V1ControllerRevision revision, JsonObject data) =>
        revision.Data is not null && JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(revision.Data)), data);

    /// <summary>Names stay within 253 characters: the parent's name is cut to leave room for the hash (kube keeps 223).</summary>
    private static string Truncate(string name) => name.Length > 223 ? name[..223] : name;
}
