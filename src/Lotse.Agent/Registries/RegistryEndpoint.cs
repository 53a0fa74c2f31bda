using Lotse.Client.Images;
namespace Lotse.Agent.Registries;

/// <summary>
/// A registry endpoint as containerd's hosts configuration addresses it, normalized as K3s
/// normalizes <c>registries.yaml</c> endpoints: no scheme means https, except a loopback host on a
/// port other than 443 (http); <c>docker.io</c> is served by <c>registry-1.docker.io</c>; the path
/// <c>/v2</c> (or none) is the API root, any other path is used as the root as it stands
/// (<c>override_path</c>).
/// </summary>
public sealed record RegistryEndpoint(string Scheme, string Host, string Path, bool OverridePath)
{
    public const string DockerHubHost = "registry-1.docker.io";

    /// <summary>How hosts.toml names it: the API root is implied (<c>/v2</c>) unless the path overrides it.</summary>
    public string Url => OverridePath ? $"{Scheme}://{Host}{Path}" : $"{Scheme}://{Host}";

    public override string ToString() => Url;

    /// <summary>The endpoint containerd falls back to for <paramref name="registry"/> (the "default endpoint").</summary>
    public static RegistryEndpoint DefaultFor(string registry) => Parse(registry == ImageReference.DockerHub ? DockerHubHost : registry);

    /// <summary>The endpoint <paramref name="text"/> names; <see cref="FormatException"/> when it names none.</summary>
    public static RegistryEndpoint Parse(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd >= 0 ? text[..schemeEnd].ToLowerInvariant() : null;
        var rest = schemeEnd >= 0 ? text[(schemeEnd + 3)..] : text;
        if (scheme is not (null or "http" or "https"))
        {
            throw new FormatException($"\"{text}\" is not an http or https URL");
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var host = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? rest[slash..] : string.Empty;
        if (!RegistriesConfig.IsRegistryName(host) || host == RegistriesConfig.Wildcard || path.IndexOfAny(['?', '#', ' ']) >= 0)
        {
            throw new FormatException($"\"{text}\" is not a registry URL (scheme://host[:port][/path])");
        }

        var (_, port) = ImageReference.SplitPort(host);
        scheme ??= ImageReference.IsLocalhost(host) && port is not ("" or "443") ? "http" : "https";
        if (host == ImageReference.DockerHub)
        {
            host = DockerHubHost;
        }

        path = path.TrimEnd('/');
        return path is "" or "/v2" ? new RegistryEndpoint(scheme, host, "/v2", false) : new RegistryEndpoint(scheme, host, path, true);
    }
}
