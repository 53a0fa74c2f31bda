using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Lotse.Agent.Registries;

/// <summary>
/// Reads a <c>registries.yaml</c> in K3s' format. A missing file configures nothing; a file that
/// cannot be used is one <see cref="ArgumentException"/> naming the flag, the file and the line.
/// Keys the format does not know are ignored with a warning (K3s ignores them silently).
/// </summary>
public static class RegistriesFile
{
    public const string Flag = "--private-registry";

    public const string DefaultPath = "/etc/lotse/registries.yaml";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The configuration in <paramref name="path"/>; empty when there is no such file.</summary>
    public static RegistriesConfig Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return Directory.Exists(full)
                ? throw new ArgumentException($"{Flag} {path}: is a directory, not a registries.yaml file")
                : RegistriesConfig.Empty;
        }

        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{Flag} {path}: cannot read it: {e.Message}", e);
        }

        try
        {
            return Parse(text, Path.GetDirectoryName(full)!) with { Source = full };
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{Flag} {path}: {e.Message}", e);
        }
    }

    /// <summary>The configuration in <paramref name="text"/>, relative file paths taken from <paramref name="baseDirectory"/>; <see cref="FormatException"/> (one line, with the line number) when it is not usable.</summary>
    public static RegistriesConfig Parse(string text, string baseDirectory)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new FormatException($"not valid YAML (line {e.Start.Line}): {OneLine(e.InnerException?.Message ?? e.Message)}", e);
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            return RegistriesConfig.Empty;
        }

        var reader = new Reader(baseDirectory);
        var root = Reader.Mapping(stream.Documents[0].RootNode, "the file");
        var mirrors = new Dictionary<string, RegistriesConfig.Mirror>(StringComparer.Ordinal);
        var configs = new Dictionary<string, RegistriesConfig.HostConfig>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in root.Children)
        {
            switch (Reader.Key(keyNode))
            {
                case "mirrors":
                    foreach (var (name, node) in Reader.Registries(value, "mirrors"))
                    {
                        mirrors[name] = reader.Mirror(node, $"mirrors.\"{name}\"", name);
                    }

                    break;
                case "configs":
                    foreach (var (name, node) in Reader.Registries(value, "configs"))
                    {
                        configs[name] = reader.HostConfig(node, $"configs.\"{name}\"");
                    }

                    break;
                default:
                    reader.Unknown(keyNode, string.Empty);
                    break;
            }
        }

        if (configs.TryGetValue(RegistriesConfig.Wildcard, out var wildcard) && wildcard.Auth is not null)
        {
            reader.Warnings.Add("configs.\"*\".auth: containerd 1.6 looks credentials up by exact host, so they are used only for the hosts this file names");
        }

        return new RegistriesConfig { Mirrors = mirrors, Configs = configs, Warnings = reader.Warnings };
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>Walks the document; every complaint names the line and the key path.</summary>
    private sealed class Reader(string baseDirectory)
    {
        public List<string> Warnings { get; } = [];

        public static YamlMappingNode Mapping(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping");

        public static string Key(YamlNode node) =>
            node is YamlScalarNode { Value: { } value } ? value : throw Error(node, "keys must be plain names");

        public static string Scalar(YamlNode node, string what) =>
            node is YamlScalarNode { Value: { } value } && !IsNull(node) ? value : throw Error(node, $"{what} must be a plain value");

        public void Unknown(YamlNode key, string path) =>
            Warnings.Add($"line {key.Start.Line}: unknown key {(path.Length > 0 ? path + "." : string.Empty)}{(key as YamlScalarNode)?.Value} ignored");

        /// <summary>The entries of a <c>mirrors</c> or <c>configs</c> mapping, keyed by registry name.</summary>
        public static IEnumerable<(string Name, YamlNode Value)> Registries(YamlNode node, string what)
        {
            if (IsNull(node))
            {
                yield break;
            }

            foreach (var (keyNode, value) in Mapping(node, what).Children)
            {
                var name = Key(keyNode);
                if (!RegistriesConfig.IsRegistryName(name))
                {
                    throw Error(keyNode, $"{what}: \"{name}\" is not a registry name (host[:port], or \"*\" for every registry)");
                }

                yield return (name, value);
            }
        }

        public RegistriesConfig.Mirror Mirror(YamlNode node, string path, string name)
        {
            var endpoints = new List<RegistryEndpoint>();
            var rewrites = new List<RegistriesConfig.RewriteRule>();
            if (IsNull(node))
            {
                return new RegistriesConfig.Mirror(endpoints, rewrites);
            }

            var defaultEndpoint = name == RegistriesConfig.Wildcard ? null : RegistryEndpoint.DefaultFor(name);
            foreach (var (keyNode, value) in Mapping(node, path).Children)
            {
                switch (Key(keyNode))
                {
                    case "endpoint":
                        IEnumerable<YamlNode> items = value switch
                        {
                            YamlSequenceNode list => list.Children,
                            _ when IsNull(value) => [],
                            YamlScalarNode single => [single],
                            _ => throw Error(value, $"{path}.endpoint must be a list of URLs"),
                        };
                        foreach (var item in items)
                        {
                            var text = Scalar(item, $"{path}.endpoint entries");
                            RegistryEndpoint endpoint;
                            try
                            {
                                endpoint = RegistryEndpoint.Parse(text);
                            }
                            catch (FormatException e)
                            {
                                throw Error(item, $"{path}.endpoint: {e.Message}");
                            }

                            if (endpoint == defaultEndpoint)
                            {
                                // K3s: an endpoint equal to the default endpoint is not a mirror; the default is tried last anyway.
                                Warnings.Add($"line {item.Start.Line}: {path}.endpoint \"{text}\" is the registry's default endpoint, which is always tried last; not listed as a mirror");
                            }
                            else if (!endpoints.Contains(endpoint))
                            {
                                endpoints.Add(endpoint);
                            }
                        }

                        break;
                    case "rewrite":
                        if (IsNull(value))
                        {
                            break;
                        }

                        foreach (var (patternNode, replacementNode) in Mapping(value, $"{path}.rewrite").Children)
                        {
                            var pattern = Scalar(patternNode, $"{path}.rewrite patterns");
                            try
                            {
                                rewrites.Add(new RegistriesConfig.RewriteRule(new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout), Scalar(replacementNode, $"{path}.rewrite.\"{pattern}\"")));
                            }
                            catch (ArgumentException e)
                            {
                                throw Error(patternNode, $"{path}.rewrite: \"{pattern}\" is not a regular expression: {OneLine(e.Message)}");
                            }
                        }

                        break;
                    default:
                        Unknown(keyNode, path);
                        break;
                }
            }

            return new RegistriesConfig.Mirror(endpoints, rewrites);
        }

        public RegistriesConfig.HostConfig HostConfig(YamlNode node, string path)
        {
            RegistriesConfig.Credentials? auth = null;
            RegistriesConfig.Tls? tls = null;
            if (IsNull(node))
            {
                return new RegistriesConfig.HostConfig(auth, tls);
            }

            foreach (var (keyNode, value) in Mapping(node, path).Children)
            {
                switch (Key(keyNode))
                {
                    case "auth":
                        auth = Auth(value, $"{path}.auth");
                        break;
                    case "tls":
                        tls = Tls(value, $"{path}.tls");
                        break;
                    default:
                        Unknown(keyNode, path);
                        break;
                }
            }

            return new RegistriesConfig.HostConfig(auth, tls);
        }

        private RegistriesConfig.Credentials? Auth(YamlNode node, string path)
        {
            if (IsNull(node))
            {
                return null;
            }

            if (node is YamlScalarNode)
            {
                // Shorthand: the auth value itself, base64 of user:password.
                var encoded = Scalar(node, path);
                CheckBasic(node, encoded, path);
                return new RegistriesConfig.Credentials(null, null, encoded, null);
            }

            string? username = null, password = null, basic = null, token = null;
            foreach (var (keyNode, value) in Mapping(node, path).Children)
            {
                switch (Key(keyNode))
                {
                    case "username":
                        username = Scalar(value, $"{path}.username");
                        break;
                    case "password":
                        password = Scalar(value, $"{path}.password");
                        break;
                    case "auth":
                        basic = Scalar(value, $"{path}.auth");
                        CheckBasic(value, basic, $"{path}.auth");
                        break;
                    case "identitytoken":
                    case "identity_token":
                        token = Scalar(value, $"{path}.identitytoken");
                        break;
                    default:
                        Unknown(keyNode, path);
                        break;
                }
            }

            if (username is null && password is null && basic is null && token is null)
            {
                throw Error(node, $"{path} needs username/password, auth (base64 of user:password) or identitytoken");
            }

            if (password is not null && username is null)
            {
                throw Error(node, $"{path} has a password but no username");
            }

            return new RegistriesConfig.Credentials(username, password, basic, token);
        }

        private static void CheckBasic(YamlNode node, string encoded, string path)
        {
            var bytes = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded, bytes, out var length) || !Encoding.UTF8.GetString(bytes, 0, length).Contains(':', StringComparison.Ordinal))
            {
                throw Error(node, $"{path} must be base64 of user:password");
            }
        }

        private RegistriesConfig.Tls? Tls(YamlNode node, string path)
        {
            if (IsNull(node))
            {
                return null;
            }

            string? ca = null, cert = null, key = null;
            var skip = false;
            foreach (var (keyNode, value) in Mapping(node, path).Children)
            {
                var name = Key(keyNode);
                switch (name)
                {
                    case "ca_file":
                        ca = FilePath(value, $"{path}.{name}");
                        break;
                    case "cert_file":
                        cert = FilePath(value, $"{path}.{name}");
                        break;
                    case "key_file":
                        key = FilePath(value, $"{path}.{name}");
                        break;
                    case "insecure_skip_verify":
                        skip = IsNull(value) ? false : Scalar(value, $"{path}.{name}").ToLowerInvariant() switch
                        {
                            "true" or "yes" or "on" => true,
                            "false" or "no" or "off" => false,
                            _ => throw Error(value, $"{path}.{name} must be true or false"),
                        };
                        break;
                    default:
                        Unknown(keyNode, path);
                        break;
                }
            }

            if (key is not null && cert is null)
            {
                throw Error(node, $"{path}.key_file needs a cert_file");
            }

            return new RegistriesConfig.Tls(ca, cert, key, skip);
        }

        /// <summary>An absolute path (relative ones from the file's directory); empty means none, as K3s' empty values do.</summary>
        private string? FilePath(YamlNode node, string path)
        {
            if (IsNull(node))
            {
                return null;
            }

            var file = Path.GetFullPath(Scalar(node, path), baseDirectory);
            if (!File.Exists(file))
            {
                Warnings.Add($"line {node.Start.Line}: {path} {file} does not exist; pulls that need it fail until it does");
            }

            return file;
        }

        private static FormatException Error(YamlNode node, string message) => new($"line {node.Start.Line}: {message}");
    }
}
