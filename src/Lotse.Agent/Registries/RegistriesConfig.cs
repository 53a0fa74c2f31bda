using System.Text.RegularExpressions;
using Lotse.Client.Images;

namespace Lotse.Agent.Registries;

/// <summary>
/// The node's registry configuration, K3s' <c>registries.yaml</c>: <c>mirrors</c> (per registry
/// name, or <c>"*"</c> for every registry without its own entry: endpoints tried in order before the
/// registry's default endpoint, and rewrites of the repository path for those endpoints) and
/// <c>configs</c> (per endpoint host: credentials and TLS). <see cref="RegistriesFile"/> reads it;
/// <see cref="RegistryHosts"/> turns it into containerd's <c>certs.d</c>, the containerd config
/// carries the credentials, and the kubelet applies the rewrites when it pulls.
/// </summary>
public sealed partial record RegistriesConfig
{
    public const string Wildcard = "*";

    public static RegistriesConfig Empty { get; } = new();

    /// <summary>The file it was read from, if any.</summary>
    public string? Source { get; init; }

    public IReadOnlyDictionary<string, Mirror> Mirrors { get; init; } = new Dictionary<string, Mirror>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, HostConfig> Configs { get; init; } = new Dictionary<string, HostConfig>(StringComparer.Ordinal);

    /// <summary>What the file says that the agent ignores or cannot honour, for the start-up log.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsEmpty => Mirrors.Count == 0 && Configs.Count == 0;

    /// <param name="Endpoints">Tried in order, then the registry's default endpoint (never listed here).</param>
    /// <param name="Rewrites">Applied to the repository path for the endpoints, first match wins.</param>
    public sealed record Mirror(IReadOnlyList<RegistryEndpoint> Endpoints, IReadOnlyList<RewriteRule> Rewrites);

    public sealed record RewriteRule(Regex Pattern, string Replacement);

    public sealed record HostConfig(Credentials? Auth, Tls? Tls);

    /// <summary>containerd's registry auth: username/password, or <c>auth</c> (base64 of <c>user:password</c>), or an identity token.</summary>
    public sealed record Credentials(string? Username, string? Password, string? Auth, string? IdentityToken);

    public sealed record Tls(string? CaFile, string? CertFile, string? KeyFile, bool InsecureSkipVerify);

    /// <summary>Whether <paramref name="name"/> is <c>host[:port]</c> (or the wildcard).</summary>
    public static bool IsRegistryName(string name) => name == Wildcard || RegistryName().IsMatch(name);

    /// <summary>
    /// The mirror containerd uses for <paramref name="registry"/>: its own, or — when the agent writes
    /// no host directory of its own for it — the wildcard's (containerd's <c>_default</c>).
    /// </summary>
    public Mirror? MirrorFor(string registry) =>
        Mirrors.TryGetValue(registry, out var own) ? own
        : Configs.TryGetValue(registry, out var config) && config.Tls is not null ? null
        : Mirrors.GetValueOrDefault(Wildcard);

    /// <summary>The TLS and auth settings for an endpoint host (K3s looks up <c>docker.io</c>'s under <c>registry-1.docker.io</c> too).</summary>
    public HostConfig? ConfigFor(string host) =>
        Configs.TryGetValue(host, out var config) ? config
        : host == RegistryEndpoint.DockerHubHost ? Configs.GetValueOrDefault(ImageReference.DockerHub)
        : host == ImageReference.DockerHub ? Configs.GetValueOrDefault(RegistryEndpoint.DockerHubHost)
        : null;

    /// <summary>
    /// The reference to pull <paramref name="image"/> by when a rewrite of its registry's mirror
    /// matches its repository path, or null. containerd 1.6 has no rewrites in hosts.toml, so the
    /// agent pulls the rewritten name itself (see docs/agent.md, "Registries").
    /// </summary>
    public string? Rewrite(string image)
    {
        if (ImageReference.Parse(image) is not { } reference || MirrorFor(reference.Registry) is not { Endpoints.Count: > 0 } mirror)
        {
            return null;
        }

        foreach (var rule in mirror.Rewrites)
        {
            try
            {
                if (!rule.Pattern.IsMatch(reference.Repository))
                {
                    continue;
                }

                var path = rule.Pattern.Replace(reference.Repository, rule.Replacement);
                return path != reference.Repository && ImageReference.IsRepositoryPath(path) ? (reference with { Repository = path }).ToString() : null;
            }
            catch (RegexMatchTimeoutException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// The hosts containerd should authenticate to and with what, for its config's
    /// <c>registry.configs."host".auth</c>: every configured host with credentials (docker.io's
    /// also as <c>registry-1.docker.io</c>, the host containerd talks to), and the wildcard's
    /// credentials for every other host this file names — containerd 1.6 looks credentials up by
    /// exact host, so hosts the file does not name get no wildcard credentials.
    /// </summary>
    public IReadOnlyList<(string Host, Credentials Auth)> CredentialHosts()
    {
        var result = new SortedDictionary<string, Credentials>(StringComparer.Ordinal);
        foreach (var (host, config) in Configs)
        {
            if (host != Wildcard && config.Auth is { } auth)
            {
                result[host] = auth;
            }
        }

        if (result.TryGetValue(ImageReference.DockerHub, out var hub))
        {
            result.TryAdd(RegistryEndpoint.DockerHubHost, hub);
        }

        if (Configs.TryGetValue(Wildcard, out var wildcard) && wildcard.Auth is { } any)
        {
            var named = Configs.Keys.Where(k => k != Wildcard)
                .Concat(Mirrors.Keys.Where(k => k != Wildcard).Select(k => RegistryEndpoint.DefaultFor(k).Host))
                .Concat(Mirrors.Values.SelectMany(m => m.Endpoints).Select(e => e.Host));
            foreach (var host in named)
            {
                result.TryAdd(host, any);
            }
        }

        return [.. result.Select(p => (p.Key, p.Value))];
    }

    [GeneratedRegex(@"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryName();
}
