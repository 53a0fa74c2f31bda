namespace Lotse.Agent.Containerd;

/// <summary>
/// The configuration the agent generates for its containerd: everything under one directory, CRI
/// on runc with cgroupfs (no systemd here), <c>restrict_oom_score_adj</c> (these machines' root
/// lacks CAP_SYS_RESOURCE; without it every sandbox fails), the agent's pause image, the CNI
/// directories the agent writes, and a registry hosts directory for mirrors.
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

        """;

    public void Write()
    {
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(RegistryHosts);
        System.IO.Directory.CreateDirectory(CniConfDir);
        File.WriteAllText(ConfigFile, Render());
    }
}
