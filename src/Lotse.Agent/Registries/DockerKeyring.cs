using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s.Models;
using Lotse.Client.Images;

namespace Lotse.Agent.Registries;

/// <summary>
/// Registry credentials from a pod's image pull secrets, matched to an image the way the kubelet's
/// credential keyring matches them (<c>pkg/credentialprovider</c>: <c>BasicDockerKeyring</c>,
/// <c>URLsMatch</c>, <c>secrets.MakeDockerKeyring</c>): each key of a docker config is a registry
/// host with an optional path (a scheme, and a leading <c>/v1/</c> or <c>/v2/</c>, are dropped); an
/// image matches a key when the ports are equal, the host has as many dot-separated parts and each
/// matches the key's part as a glob (<c>*.example.com</c>), and the key's path is a prefix of the
/// image's. Every matching key contributes, longest (most specific) keys first; when none matches
/// and the image is on Docker Hub, the credentials of <c>index.docker.io</c> (as docker login
/// writes them, <c>https://index.docker.io/v1/</c>) apply.
/// </summary>
public sealed class DockerKeyring
{
    private const string DockerHubKey = "index.docker.io";

    private readonly Dictionary<string, List<Credential>> _credentials = new(StringComparer.Ordinal);
    private List<string> _index = [];

    /// <param name="Source">Which secret it came from, for messages.</param>
    public sealed record Credential(string Username, string Password, string Source);

    public bool IsEmpty => _index.Count == 0;

    /// <summary>
    /// The keyring of <paramref name="secrets"/>: those of type <c>kubernetes.io/dockerconfigjson</c>
    /// with <c>.dockerconfigjson</c> and <c>kubernetes.io/dockercfg</c> with <c>.dockercfg</c>; other
    /// secrets are ignored, as the kubelet ignores them. A secret whose content is not a docker
    /// config is a <see cref="FormatException"/> naming it (the kubelet fails the pull on it too).
    /// </summary>
    public static DockerKeyring FromSecrets(IEnumerable<V1Secret> secrets)
    {
        var keyring = new DockerKeyring();
        foreach (var secret in secrets)
        {
            var name = secret.Metadata?.Name ?? "(unnamed)";
            if (secret.Type == "kubernetes.io/dockerconfigjson" && secret.Data is { } jsonData && jsonData.TryGetValue(".dockerconfigjson", out var json) && json is { Length: > 0 })
            {
                keyring.Add(Entries(json, name, ".dockerconfigjson", nested: true), name);
            }
            else if (secret.Type == "kubernetes.io/dockercfg" && secret.Data is { } cfgData && cfgData.TryGetValue(".dockercfg", out var cfg) && cfg is { Length: > 0 })
            {
                keyring.Add(Entries(cfg, name, ".dockercfg", nested: false), name);
            }
        }

        return keyring;
    }

    /// <summary>The credentials for <paramref name="image"/>, most specific first; empty when none apply.</summary>
    public IReadOnlyList<Credential> Lookup(string image)
    {
        var repository = ImageReference.Parse(image)?.Name ?? image;
        var found = _index.Where(key => UrlsMatch(key, repository)).SelectMany(key => _credentials[key]).ToList();
        if (found.Count == 0 && IsDockerHub(repository) && _credentials.TryGetValue(DockerHubKey, out var hub))
        {
            found.AddRange(hub);
        }

        return found;
    }

    private void Add(IEnumerable<(string Location, string Username, string Password)> entries, string source)
    {
        foreach (var (location, username, password) in entries)
        {
            if (Key(location) is not { } key)
            {
                continue;
            }

            if (!_credentials.TryGetValue(key, out var list))
            {
                _credentials[key] = list = [];
            }

            list.Add(new Credential(username, password, source));
        }

        _index = [.. _credentials.Keys.OrderDescending(StringComparer.Ordinal)];
    }

    /// <summary>The keyring key of a docker config location (host plus path), or null when it is no URL.</summary>
    internal static string? Key(string location)
    {
        if (location.Length == 0 || location.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return null;
        }

        var value = location.StartsWith("https://", StringComparison.Ordinal) || location.StartsWith("http://", StringComparison.Ordinal) ? location : "https://" + location;
        var (host, path) = SplitUrl(value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..]);
        if (path.StartsWith("/v2/", StringComparison.Ordinal) || path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            path = path[3..];
        }

        return path.Length > 0 && path != "/" ? host + path : host;
    }

    /// <summary>Whether the credential key <paramref name="glob"/> applies to the repository <paramref name="target"/> (kubelet's <c>URLsMatch</c>).</summary>
    internal static bool UrlsMatch(string glob, string target)
    {
        var (globHost, globPath) = SplitUrl(glob);
        var (targetHost, targetPath) = SplitUrl(target);
        var (globName, globPort) = ImageReference.SplitPort(globHost);
        var (targetName, targetPort) = ImageReference.SplitPort(targetHost);
        if (globPort != targetPort || !targetPath.StartsWith(globPath, StringComparison.Ordinal))
        {
            return false;
        }

        var globParts = globName.Split('.');
        var targetParts = targetName.Split('.');
        return globParts.Length == targetParts.Length && globParts.Zip(targetParts).All(p => GlobMatch(p.First, p.Second));
    }

    /// <summary>Whether an image would come from Docker Hub judged by its name (kubelet's <c>isDefaultRegistryMatch</c>).</summary>
    internal static bool IsDockerHub(string repository)
    {
        var slash = repository.IndexOf('/', StringComparison.Ordinal);
        if (slash == 0)
        {
            return false;
        }

        if (slash < 0)
        {
            return true;
        }

        var first = repository[..slash];
        return first is ImageReference.DockerHub or DockerHubKey || first.IndexOfAny(['.', ':']) < 0;
    }

    /// <summary>Host and path of a URL without its scheme; query and fragment dropped.</summary>
    private static (string Host, string Path) SplitUrl(string schemeless)
    {
        var end = schemeless.IndexOfAny(['?', '#']);
        if (end >= 0)
        {
            schemeless = schemeless[..end];
        }

        var slash = schemeless.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (schemeless, string.Empty) : (schemeless[..slash], schemeless[slash..]);
    }

    /// <summary>Go's <c>filepath.Match</c> for one host label: <c>*</c>, <c>?</c>, <c>[classes]</c> and <c>\</c> escapes; a malformed pattern matches nothing.</summary>
    internal static bool GlobMatch(string pattern, string name)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '\\':
                    if (++i == pattern.Length)
                    {
                        return false;
                    }

                    regex.Append(Regex.Escape(pattern[i].ToString()));
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0 || close == i + 1 || (close == i + 2 && pattern[i + 1] == '^'))
                    {
                        return false;
                    }

                    var negate = pattern[i + 1] == '^';
                    var body = pattern[(negate ? i + 2 : i + 1)..close];
                    regex.Append(negate ? "[^" : "[").Append(body.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        try
        {
            return Regex.IsMatch(name, regex.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The entries of a docker config: <c>{"auths": {location: entry}}</c> (nested) or <c>{location: entry}</c>; <c>auth</c> (base64 of user:password) wins over username and password.</summary>
    private static List<(string Location, string Username, string Password)> Entries(byte[] content, string secret, string key, bool nested)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("not a JSON object");
            }

            if (nested)
            {
                root = Property(root, "auths") switch
                {
                    null or { ValueKind: JsonValueKind.Null } => default,
                    { ValueKind: JsonValueKind.Object } auths => auths,
                    _ => throw new FormatException("\"auths\" is not an object"),
                };
            }

            var result = new List<(string, string, string)>();
            if (root.ValueKind != JsonValueKind.Object)
            {
                return result;
            }

            foreach (var entry in root.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (entry.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"the entry for \"{entry.Name}\" is not an object");
                }

                var username = Text(entry.Value, "username", entry.Name);
                var password = Text(entry.Value, "password", entry.Name);
                if (Text(entry.Value, "auth", entry.Name) is { Length: > 0 } auth)
                {
                    (username, password) = DecodeAuth(auth, entry.Name);
                }

                result.Add((entry.Name, username, password));
            }

            return result;
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new FormatException($"image pull secret \"{secret}\" has no valid {key}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    private static (string Username, string Password) DecodeAuth(string auth, string location)
    {
        var bytes = new byte[auth.Length];
        if (!Convert.TryFromBase64String(auth, bytes, out var length))
        {
            throw new FormatException($"the auth of \"{location}\" is not base64");
        }

        var text = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? throw new FormatException($"the auth of \"{location}\" is not user:password") : (text[..colon], text[(colon + 1)..]);
    }

    /// <summary>A string field, matched case-insensitively as Go's encoding/json does; empty when absent.</summary>
    private static string Text(JsonElement entry, string name, string location) =>
        Property(entry, name) switch
        {
            null or { ValueKind: JsonValueKind.Null } => string.Empty,
            { ValueKind: JsonValueKind.String } value => value.GetString()!,
            _ => throw new FormatException($"\"{name}\" of \"{location}\" is not a string"),
        };

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }
}
