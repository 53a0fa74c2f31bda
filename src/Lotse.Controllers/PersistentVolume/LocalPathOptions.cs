namespace Lotse.Controllers.PersistentVolume;

/// <summary>The built-in local-path provisioner (K3s' default storage): where volumes live on each node, and its class.</summary>
public sealed record LocalPathOptions
{
    public const string Provisioner = "rancher.io/local-path";

    /// <summary>
    /// Holds a provisioned volume until the agent on its node has removed its directory
    /// (Lotse.Agent's LocalPathCleaner), as K3s' provisioner removes it with a helper pod.
    /// </summary>
    public const string CleanupFinalizer = "lotse.io/local-path-cleanup";

    /// <summary>The directory on every node under which provisioned volumes are made (K3s' --default-local-storage-path).</summary>
    public string StoragePath { get; init; } = "/var/lib/lotse/storage";

    /// <summary>The StorageClass made at start, marked the default class.</summary>
    public string ClassName { get; init; } = "local-path";
}
