using System.Text.Json.Nodes;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Conversion;

/// <summary>
/// How one served version of a kind relates to how its objects are stored, when several versions
/// share one key space: every read shows an object in the requested version
/// (<see cref="Present"/>), and a version that is not stored as itself writes through
/// <see cref="StorageVersion"/> after <see cref="ToStorage"/>.
/// </summary>
public abstract class VersionConversion
{
    /// <summary>The stored object as this version serves it (the same instance when nothing changes).</summary>
    public abstract CachedObject Present(CachedObject stored);

    /// <summary>The version objects written through this one are stored as; null: as written.</summary>
    public virtual string? StorageVersion => null;

    /// <summary>An object of this version in the storage version's shape.</summary>
    public virtual JsonObject ToStorage(JsonObject obj) => obj;
}

/// <summary>Versions that differ only in name (a CRD's, kube's conversion strategy None): objects are stored as written and shown with the requested apiVersion.</summary>
public sealed class ApiVersionConversion(string groupVersion) : VersionConversion
{
    public override CachedObject Present(CachedObject stored) => stored.WithApiVersion(groupVersion);
}
