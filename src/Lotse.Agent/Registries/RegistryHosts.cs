using System.Text;

namespace Lotse.Agent.Registries;

/// <summary>
/// containerd's registry hosts directory (<c>config_path</c>, containerd 1.6's
/// <c>remotes/docker/config</c>) from a <see cref="RegistriesConfig"/>, as K3s writes it:
/// <c>&lt;registry&gt;/hosts.toml</c> per mirror (<c>_default</c> for <c>"*"</c>) with the registry's
/// default endpoint as <c>server</c> — tried last — and one <c>[host]</c> per mirror endpoint
/// (pull and resolve only) carrying the TLS settings of that endpoint's <c>configs</c> entry; a
/// registry with only TLS settings gets a file whose <c>server</c> carries them. Credentials are not
/// written here (containerd 1.6 reads none from hosts.toml) but into the containerd config.
/// </summary>
public static class RegistryHosts
{
    /// <summary>The first line of every hosts.toml the agent writes: how it finds its own files again.</summary>
    public const string Header = "# Written by lotse agent from its registries.yaml (--private-registry); edits are overwritten.";

    public const string DefaultDirectory = "_default";

    /// <summary>hosts.toml contents by directory name.</summary>
    public static IReadOnlyDictionary<string, string> Render(RegistriesConfig config)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var names = config.Mirrors.Keys.Concat(config.Configs.Where(c => c.Value.Tls is not null).Select(c => c.Key)).Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var wildcard = name == RegistriesConfig.Wildcard;
            var endpoints = config.Mirrors.GetValueOrDefault(name)?.Endpoints ?? [];
            var rootTls = config.Configs.TryGetValue(name, out var own) ? own.Tls : null;
            if (!wildcard)
            {
                rootTls ??= config.ConfigFor(RegistryEndpoint.DefaultFor(name).Host)?.Tls;
            }

            if (endpoints.Count == 0 && rootTls is null)
            {
                continue;
            }

            var text = new StringBuilder().AppendLine(Header);
            if (!wildcard)
            {
                // Without a server line containerd would pick the same default; written out to be read.
                text.Append("server = ").AppendLine(Toml.Quote(RegistryEndpoint.DefaultFor(name).Url));
            }

            AppendTls(text, rootTls, string.Empty);
            foreach (var endpoint in endpoints)
            {
                text.AppendLine().Append("[host.").Append(Toml.Quote(endpoint.Url)).AppendLine("]");
                text.AppendLine("  capabilities = [\"pull\", \"resolve\"]");
                AppendTls(text, config.ConfigFor(endpoint.Host)?.Tls, "  ");
                if (endpoint.OverridePath)
                {
                    text.AppendLine("  override_path = true");
                }
            }

            files[wildcard ? DefaultDirectory : name] = text.ToString();
        }

        return files;
    }

    /// <summary>
    /// Writes the hosts files under <paramref name="directory"/> and removes the ones an earlier
    /// start wrote that this configuration no longer has. Directories the agent did not write
    /// (no hosts.toml starting with <see cref="Header"/>) are left alone, unless this configuration
    /// names the same registry: then its hosts.toml is replaced.
    /// </summary>
    public static void Write(string directory, RegistriesConfig config)
    {
        Directory.CreateDirectory(directory);
        var files = Render(config);
        foreach (var dir in Directory.EnumerateDirectories(directory))
        {
            if (!files.ContainsKey(Path.GetFileName(dir)) && IsOurs(Path.Combine(dir, "hosts.toml")))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        foreach (var (name, content) in files)
        {
            var dir = Path.Combine(directory, name);
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, "hosts.toml");
            var temporary = file + ".tmp";
            File.WriteAllText(temporary, content);
            File.Move(temporary, file, overwrite: true);
        }
    }

    private static bool IsOurs(string hostsFile)
    {
        if (!File.Exists(hostsFile))
        {
            return false;
        }

        using var reader = new StreamReader(hostsFile);
        return reader.ReadLine() == Header;
    }

    private static void AppendTls(StringBuilder text, RegistriesConfig.Tls? tls, string indent)
    {
        if (tls is null)
        {
            return;
        }

        if (tls.CaFile is { } ca)
        {
            text.Append(indent).Append("ca = ").AppendLine(Toml.Quote(ca));
        }

        if (tls.CertFile is { } cert)
        {
            text.Append(indent).Append("client = ").AppendLine(tls.KeyFile is { } key ? $"[[{Toml.Quote(cert)}, {Toml.Quote(key)}]]" : Toml.Quote(cert));
        }

        if (tls.InsecureSkipVerify)
        {
            text.Append(indent).AppendLine("skip_verify = true");
        }
    }
}
