namespace Lotse.Client.Images;

/// <summary>
/// An image reference split as docker's <c>reference.ParseNormalizedNamed</c> splits it (what
/// containerd and the kubelet both do): the first path component is the registry when it holds a
/// <c>.</c> or <c>:</c> or is <c>localhost</c> (or has upper-case letters), otherwise the image is on
/// <c>docker.io</c>, where a one-component name lives under <c>library/</c>;
/// <c>index.docker.io</c> is <c>docker.io</c>.
/// </summary>
/// <param name="Registry">The registry host (and port): <c>docker.io</c>, <c>quay.io</c>, <c>10.0.0.1:5000</c>.</param>
/// <param name="Repository">The path inside the registry: <c>library/busybox</c>.</param>
/// <param name="Suffix">What follows the path as written: <c>:1</c>, <c>@sha256:…</c>, <c>:1@sha256:…</c>, or empty.</param>
public sealed record ImageReference(string Registry, string Repository, string Suffix)
{
    public const string DockerHub = "docker.io";

    /// <summary>The repository with its registry, no tag or digest (kubelet's <c>repoToPull</c>).</summary>
    public string Name => $"{Registry}/{Repository}";

    public override string ToString() => Name + Suffix;

    /// <summary>The one form nodes' image lists and pods' images are compared in: <c>nginx</c> is <c>docker.io/library/nginx:latest</c>.</summary>
    public static string Normalize(string image) =>
        Parse(image) is { } reference ? reference.Name + (reference.Suffix.Length == 0 ? ":latest" : reference.Suffix) : image;

    /// <summary>The reference, or null when <paramref name="image"/> is no image name.</summary>
    public static ImageReference? Parse(string? image)
    {
        if (string.IsNullOrWhiteSpace(image) || image.Any(char.IsWhiteSpace))
        {
            return null;
        }

        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var digest = at >= 0 ? image[at..] : string.Empty;
        var lastSlash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        var tag = string.Empty;
        if (colon > lastSlash)
        {
            tag = name[colon..];
            name = name[..colon];
        }

        var registry = DockerHub;
        var repository = name;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = name[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsUpper))
            {
                registry = first == "index.docker.io" ? DockerHub : first;
                repository = name[(slash + 1)..];
            }
        }

        if (registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        return IsRepositoryPath(repository) && tag != ":" ? new ImageReference(registry, repository, tag + digest) : null;
    }

    /// <summary>Whether <paramref name="path"/> is a valid repository path: lower-case components of letters and digits joined by <c>.</c>, <c>_</c>, <c>__</c> or dashes.</summary>
    public static bool IsRepositoryPath(string path) =>
        path.Length > 0 && path.Split('/').All(component => component.Length > 0
            && IsAlphanumeric(component[0]) && IsAlphanumeric(component[^1])
            && component.All(c => IsAlphanumeric(c) || c is '.' or '_' or '-'));

    private static bool IsAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    /// <summary>Whether <paramref name="host"/> (with or without port) is this machine: <c>localhost</c> or a loopback address (containerd's <c>IsLocalhost</c>).</summary>
    public static bool IsLocalhost(string host)
    {
        var (name, _) = SplitPort(host);
        return name == "localhost" || (System.Net.IPAddress.TryParse(name.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
    }

    /// <summary>Host and port of <c>host[:port]</c> (IPv6 in brackets); the port is empty when there is none.</summary>
    public static (string Host, string Port) SplitPort(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        if (colon < 0 || hostPort.IndexOf(']', StringComparison.Ordinal) > colon)
        {
            return (hostPort, string.Empty);
        }

        if (hostPort.StartsWith('[') != (hostPort[colon - 1] == ']') || (!hostPort.StartsWith('[') && hostPort.IndexOf(':', StringComparison.Ordinal) != colon))
        {
            // A bare IPv6 address, or brackets that do not close before the port.
            return (hostPort, string.Empty);
        }

        return (hostPort[..colon].Trim('[', ']'), hostPort[(colon + 1)..]);
    }
}
