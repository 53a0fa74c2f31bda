namespace Lotse.Storage;

/// <summary>How <see cref="StoreFactory"/> opens the datastore (the <c>--datastore-*</c> flags).</summary>
public sealed record StoreOptions
{
    /// <summary>Empty: embedded SQLite at <see cref="SqlitePath"/>. <c>http(s)://host:2379[,…]</c>: etcd.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>The SQLite database file (default <c>&lt;data-dir&gt;/server/db/state.db</c>).</summary>
    public string SqlitePath { get; init; } = string.Empty;

    /// <summary>etcd TLS: the CA that signed etcd's serving certificate.</summary>
    public string? CaFile { get; init; }

    /// <summary>etcd TLS: this client's certificate and key (PEM).</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>How often automatic compaction runs; zero or less disables it.</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Automatic compaction keeps at least this many most recent revisions.</summary>
    public long CompactionRetainRevisions { get; init; } = 1000;

    public bool IsEtcd => Endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
