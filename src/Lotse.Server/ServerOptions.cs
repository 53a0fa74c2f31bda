namespace Lotse.Server;

/// <summary>Everything <c>lotse server</c> was told, from flags and the config file (K3s names).</summary>
public sealed record ServerOptions
{
    public required string DataDir { get; init; }

    /// <summary>Empty = embedded SQLite under the data dir; <c>http(s)://…</c> = etcd endpoints.</summary>
    public string DatastoreEndpoint { get; init; } = string.Empty;

    public string? DatastoreCaFile { get; init; }

    public string? DatastoreCertFile { get; init; }

    public string? DatastoreKeyFile { get; init; }

    public TimeSpan CompactInterval { get; init; } = TimeSpan.FromMinutes(5);

    public long CompactRetainRevisions { get; init; } = 1000;

    public string BindAddress { get; init; } = "0.0.0.0";

    public int HttpsListenPort { get; init; } = 6443;

    /// <summary>The address written into the kubeconfig and the kubernetes endpoints; empty = this host's first address.</summary>
    public string? AdvertiseAddress { get; init; }

    public IReadOnlyList<string> TlsSans { get; init; } = [];

    public string ClusterCidr { get; init; } = "10.42.0.0/16";

    public string ServiceCidr { get; init; } = "10.43.0.0/16";

    public string ClusterDomain { get; init; } = "cluster.local";

    public string WriteKubeconfig { get; init; } = "/etc/lotse/lotse.yaml";

    public int WriteKubeconfigMode { get; init; } = Convert.ToInt32("600", 8);

    public string? Token { get; init; }

    public string? TokenAuthFile { get; init; }

    public bool AnonymousAuth { get; init; }

    /// <summary>kube-apiserver's --disable-admission-plugins.</summary>
    public IReadOnlySet<string> DisabledAdmissionPlugins { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>K3s' --disable-scheduler: another scheduler binds pods.</summary>
    public bool DisableScheduler { get; init; }

    /// <summary>K3s' --disable-controller-manager: no control loops in this server.</summary>
    public bool DisableControllerManager { get; init; }

    /// <summary>--node-monitor-grace-period: how long a node may stay silent before it is Unknown and tainted unreachable.</summary>
    public TimeSpan NodeMonitorGracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>--default-local-storage-path: where the local-path provisioner makes volumes on each node (default: &lt;data-dir&gt;/storage).</summary>
    public string? DefaultLocalStoragePath { get; init; }

    public string LocalStoragePath => DefaultLocalStoragePath ?? Path.Combine(DataDir, "storage");

    /// <summary>--disable-leader-election: run the controllers and the scheduler without holding their Leases (one server only).</summary>
    public bool DisableLeaderElection { get; init; }

    /// <summary>--disable-agent: the control plane alone, no node on this host.</summary>
    public bool DisableAgent { get; init; }

    /// <summary>The node agent's flags (node name, IP, labels, taints, pause image, CRI endpoint).</summary>
    public Agent.AgentSettings Agent { get; init; } = new();

    public string DatabasePath => Path.Combine(DataDir, "server", "db", "state.db");

    public string TlsDir => Path.Combine(DataDir, "server", "tls");

    public string TokenFile => Path.Combine(DataDir, "server", "token");
}
