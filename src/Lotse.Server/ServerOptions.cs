namespace Lotse.Server;

/// <summary>Everything <c>lotse server</c> was told, from flags and the config file.</summary>
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

    public string DatabasePath => Path.Combine(DataDir, "server", "db", "state.db");
}
