using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Client.Informers;

namespace Lotse.Controllers.GarbageCollector;

/// <summary>
/// A kind the garbage collector follows: its informer (indexed by owner UID), a live read to confirm
/// an owner is really gone (the cache may lag), and the two writes the collector makes: delete
/// with a propagation policy, and a merge patch of metadata.
/// </summary>
internal sealed class TrackedKind
{
    private TrackedKind(string apiVersion, string kind, bool namespaced, IInformer informer)
    {
        ApiVersion = apiVersion;
        Kind = kind;
        Namespaced = namespaced;
        Informer = informer;
    }

    /// <summary>The group of <see cref="ApiVersion"/> ("" for core): owner references match on group and kind, not version.</summary>
    public string Group => ApiVersion.Contains('/', StringComparison.Ordinal) ? ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;

    public bool Namespaced { get; }

    public string ApiVersion { get; }

    public string Kind { get; }

    public IInformer Informer { get; }

    public Func<string, IKubernetesObject<V1ObjectMeta>?> Get { get; private init; } = null!;

    public Func<string, IEnumerable<IKubernetesObject<V1ObjectMeta>>> DependentsOf { get; private init; } = null!;

    public Func<IEnumerable<IKubernetesObject<V1ObjectMeta>>> All { get; private init; } = null!;

    /// <summary>The object as the API server has it now, or null when it is gone.</summary>
    public Func<string?, string, CancellationToken, Task<IKubernetesObject<V1ObjectMeta>?>> ReadLiveAsync { get; private init; } = null!;

    public Func<string?, string, V1DeleteOptions, CancellationToken, Task> DeleteAsync { get; private init; } = null!;

    public Func<string?, string, JsonObject, CancellationToken, Task> PatchAsync { get; private init; } = null!;

    /// <summary>Tells the collector of every change (added or updated) and every delete of an object of this kind.</summary>
    public Action<Action<IKubernetesObject<V1ObjectMeta>>, Action<IKubernetesObject<V1ObjectMeta>>> Subscribe { get; private init; } = null!;

    public static TrackedKind Create<T>(
        string apiVersion,
        string kind,
        bool namespaced,
        Informer<T> informer,
        Func<string?, string, CancellationToken, Task<T>> read,
        Func<string?, string, V1DeleteOptions, CancellationToken, Task> delete,
        Func<string?, string, V1Patch, CancellationToken, Task> patch)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.AddIndex(Owners.OwnerUidIndex, Owners.OwnerUids);
        return new TrackedKind(apiVersion, kind, namespaced, informer)
        {
            Get = key => informer.Get(key),
            DependentsOf = uid => informer.ByIndex(Owners.OwnerUidIndex, uid),
            All = informer.List,
            ReadLiveAsync = async (ns, name, ct) =>
            {
                try
                {
                    return await read(ns, name, ct);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }
            },
            DeleteAsync = delete,
            Subscribe = (changed, deleted) => informer.AddHandler(new InformerHandler<T>(o => changed(o), (_, o) => changed(o), o => deleted(o))),
            PatchAsync = (ns, name, body, ct) => patch(ns, name, new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch), ct),
        };
    }
}
