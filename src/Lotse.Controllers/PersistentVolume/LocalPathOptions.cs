namespace Lotse.Controllers.PersistentVolume;

/// <summary>The built-in local-path provisioner (K3s' default storage): where volumes live on each node, and its class.</summary>
public sealed record LocalPathOptions
{
    public const string Provisioner = "rancher.io/local-path";

    /// <summary>The directory on every node under which provisioned volumes are made (K3s' --default-local-storage-path).</summary>
    public string StoragePath { get; init; } = "/var/lib/lotse/storage";

    /// <summary>The StorageClass made at start, marked the default class.</summary>
    public string ClassName { get; init; } = "local-path";
}
