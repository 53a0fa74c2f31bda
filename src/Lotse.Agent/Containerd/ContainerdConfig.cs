using System.Text;
using Lotse.Agent.Registries;

namespace Lotse.Agent.Containerd;

/// <summary>
/// The configuration the agent generates for its containerd: everything under one directory, CRI
/// on runc with cgroupfs (no systemd here), <c>restrict_oom_score_adj</c> (these machines' root
/// lacks CAP_SYS_RESOURCE; without it every sandbox fails), the agent's pause image, the CNI
/// directories the agent writes, and the registry configuration from <c>registries.yaml</c>: a hosts
/// directory (<c>certs.d</c>) for mirrors and TLS, and registry credentials in the CRI plugin's
/// <c>registry.configs</c> — with <c>config_path</c> set, containerd 1.6's CRI plugin still takes
/// credentials from there when a pull brings none of its own (<c>pkg/cri/server/image_pull.go</c>,
/// <c>registryHosts</c>); its <c>mirrors</c> and <c>configs.tls</c> would be refused next to
/// <c>config_path</c> and are never written.
/// </summary>
public sealed record ContainerdConfig(string Directory, string PauseImage, string CniConfDir, string CniBinDir = "/usr/lib/cni")
{
    public string ConfigFile => Path.Combine(Directory, "config.toml");

    public string SocketPath => Path.Combine(Directory, "containerd.sock");

    public string PidFile => Path.Combine(Directory, "containerd.pid");

    public string LogFile => Path.Combine(Directory, "containerd.log");

    public string Root => Path.Combine(Directory, "root");

    public string State => Path.Combine(Directory, "state");

    public string RegistryHosts => Path.Combine(Directory, "certs.d");

    public RegistriesConfig Registries { get; init; } = RegistriesConfig.Empty;

    public string Render() => $$"""
        # Written by lotse agent at every start; edits are overwritten.
        version = 2
        root = "{{Root}}"
        state = "{{State}}"
        oom_score = 0

        [grpc]
          address = "{{SocketPath}}"

        [ttrpc]
          address = "{{SocketPath}}.ttrpc"

        [plugins]
          [plugins."io.containerd.internal.v1.opt"]
            path = "{{Path.Combine(Directory, "opt")}}"
          [plugins."io.containerd.grpc.v1.cri"]
            sandbox_image = "{{PauseImage}}"
            stream_server_address = "127.0.0.1"
            stream_server_port = "0"
            enable_selinux = false
            disable_apparmor = true
            restrict_oom_score_adj = true
            tolerate_missing_hugetlb_controller = true
            [plugins."io.containerd.grpc.v1.cri".containerd]
              snapshotter = "overlayfs"
              default_runtime_name = "runc"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                runtime_type = "io.containerd.runc.v2"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                  Root = "{{Path.Combine(Directory, "runc")}}"
                  SystemdCgroup = false
            [plugins."io.containerd.grpc.v1.cri".cni]
              bin_dir = "{{CniBinDir}}"
              conf_dir = "{{CniConfDir}}"
              max_conf_num = 1
            [plugins."io.containerd.grpc.v1.cri".registry]
              config_path = "{{RegistryHosts}}"
        {{RenderCredentials()}}
        """;

    /// <summary>The <c>registry.configs."host".auth</c> tables, one per host with credentials.</summary>
    private string RenderCredentials()
    {
        var text = new StringBuilder();
        foreach (var (host, auth) in Registries.CredentialHosts())
        {
            text.Append("      [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.").Append(Toml.Quote(host)).AppendLine(".auth]");
            Line("username", auth.Username);
            Line("password", auth.Password);
            Line("auth", auth.Auth);
            Line("identitytoken", auth.IdentityToken);
        }

        return text.ToString();

        void Line(string key, string? value)
        {
            if (value is not null)
            {
                text.Append("        ").Append(key).Append(" = ").AppendLine(Toml.Quote(value));
            }
        }
    }

    /// <summary>Writes the config and the registry hosts; true when the config file changed (a running containerd must restart to read it).</summary>
    public bool Write()
    {
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(CniConfDir);
        global::Lotse.Agent.Registries.RegistryHosts.Write(RegistryHosts, Registries);
        var text = Render();
        if (File.Exists(ConfigFile) && File.ReadAllText(ConfigFile) == text)
        {
            return false;
        }

        // Registry credentials make the file a secret: owner-only, before they are in it.
        using (File.Create(ConfigFile))
        {
        }

        File.SetUnixFileMode(ConfigFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(ConfigFile, text);
        return true;
    }
}
