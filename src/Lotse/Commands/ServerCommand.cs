using System.CommandLine;
using Lotse.Server;

namespace Lotse.Commands;

internal static class ServerCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var endpoint = new Option<string>("--datastore-endpoint")
        {
            Description = "Datastore: empty for the embedded SQLite database (<data-dir>/server/db/state.db), or etcd as http(s)://host:2379[,…]",
            DefaultValueFactory = _ => string.Empty,
        };
        var caFile = new Option<string?>("--datastore-cafile") { Description = "TLS CA file for etcd" };
        var certFile = new Option<string?>("--datastore-certfile") { Description = "TLS client certificate for etcd" };
        var keyFile = new Option<string?>("--datastore-keyfile") { Description = "TLS client key for etcd" };
        var compactInterval = new Option<TimeSpan>("--datastore-compact-interval")
        {
            Description = "How often old revisions are compacted (0 disables)",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(5),
            CustomParser = r => Durations.Parse(r),
        };
        var compactRetain = new Option<long>("--datastore-compact-retain")
        {
            Description = "Compaction keeps at least this many recent revisions",
            DefaultValueFactory = _ => 1000,
        };

        var bindAddress = new Option<string>("--bind-address") { Description = "Address the API server listens on", DefaultValueFactory = _ => "0.0.0.0" };
        var httpsPort = new Option<int>("--https-listen-port") { Description = "Port the API server listens on (HTTPS)", DefaultValueFactory = _ => 6443 };
        var advertiseAddress = new Option<string?>("--advertise-address") { Description = "Address clients and the kubernetes endpoints use (default: this host's first IPv4 address)" };
        var tlsSan = new Option<string[]>("--tls-san") { Description = "Extra host names or IPs in the serving certificate (repeatable)", AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] };
        var clusterCidr = new Option<string>("--cluster-cidr") { Description = "Pod network range", DefaultValueFactory = _ => "10.42.0.0/16" };
        var serviceCidr = new Option<string>("--service-cidr", "--service-cluster-ip-range") { Description = "Service cluster IP range", DefaultValueFactory = _ => "10.43.0.0/16" };
        var clusterDomain = new Option<string>("--cluster-domain") { Description = "Cluster domain", DefaultValueFactory = _ => "cluster.local" };
        var writeKubeconfig = new Option<string>("--write-kubeconfig", "-o") { Description = "Write the admin kubeconfig to this file", DefaultValueFactory = _ => DefaultKubeconfig() };
        var writeKubeconfigMode = new Option<string>("--write-kubeconfig-mode") { Description = "File mode of the kubeconfig (octal)", DefaultValueFactory = _ => "0600" };
        var token = new Option<string?>("--token", "-t") { Description = "Shared secret for joining agents (default: generated and kept in <data-dir>/server/token)" };
        var tokenAuthFile = new Option<string?>("--token-auth-file") { Description = "Static bearer tokens file (token,user,uid,\"groups\")" };
        var anonymousAuth = new Option<bool>("--anonymous-auth") { Description = "Serve anonymous requests (as system:anonymous)" };
        var disableAdmissionPlugins = new Option<string[]>("--disable-admission-plugins")
        {
            Description = $"Admission plugins to turn off, comma-separated or repeated (of: {string.Join(", ", ApiServer.Admission.AdmissionPlugins.Names)})",
            DefaultValueFactory = _ => [],
        };
        var disableAgent = new Option<bool>("--disable-agent") { Description = "Do not run a node agent on this host (the control plane alone)" };
        var agentFlags = new AgentFlags();
        var disableScheduler = new Option<bool>("--disable-scheduler") { Description = "Do not run the scheduler (another scheduler binds pods)" };
        var disableControllerManager = new Option<bool>("--disable-controller-manager") { Description = "Do not run the controllers" };
        var localStoragePath = new Option<string?>("--default-local-storage-path") { Description = "Where the local-path provisioner makes volumes on each node (default: <data-dir>/storage)" };
        var disableLeaderElection = new Option<bool>("--disable-leader-election") { Description = "Run the controllers and the scheduler without leader election (only one server may run them)" };
        var nodeMonitorGracePeriod = new Option<TimeSpan>("--node-monitor-grace-period")
        {
            Description = "How long a node may post no status and renew no Lease before it is Unknown, tainted unreachable and its pods evicted after their tolerations",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(40),
            CustomParser = r => Durations.Parse(r),
        };

        var command = new Command(
            "server",
            "Run the control plane: the datastore and the Kubernetes API server (HTTPS on 6443), with an admin "
            + "kubeconfig for kubectl, the controllers, the scheduler, and a node agent on this host (containerd and the kubelet).");
        foreach (var option in new Option[] { bindAddress, httpsPort, advertiseAddress, tlsSan, clusterCidr, serviceCidr, clusterDomain, writeKubeconfig, writeKubeconfigMode, token, tokenAuthFile, anonymousAuth, disableAdmissionPlugins, disableAgent, disableScheduler, disableControllerManager, disableLeaderElection, nodeMonitorGracePeriod, localStoragePath })
        {
            command.Options.Add(option);
        }

        common.AddTo(command);
        agentFlags.AddTo(command);
        command.Options.Add(endpoint);
        command.Options.Add(caFile);
        command.Options.Add(certFile);
        command.Options.Add(keyFile);
        command.Options.Add(compactInterval);
        command.Options.Add(compactRetain);

        command.SetAction((parsed, cancellationToken) =>
        {
            var options = new ServerOptions
            {
                DataDir = parsed.GetValue(common.DataDir)!,
                DatastoreEndpoint = parsed.GetValue(endpoint) ?? string.Empty,
                DatastoreCaFile = parsed.GetValue(caFile),
                DatastoreCertFile = parsed.GetValue(certFile),
                DatastoreKeyFile = parsed.GetValue(keyFile),
                CompactInterval = parsed.GetValue(compactInterval),
                CompactRetainRevisions = parsed.GetValue(compactRetain),
                BindAddress = parsed.GetValue(bindAddress)!,
                HttpsListenPort = parsed.GetValue(httpsPort),
                AdvertiseAddress = parsed.GetValue(advertiseAddress),
                TlsSans = parsed.GetValue(tlsSan) ?? [],
                ClusterCidr = parsed.GetValue(clusterCidr)!,
                ServiceCidr = parsed.GetValue(serviceCidr)!,
                ClusterDomain = parsed.GetValue(clusterDomain)!,
                WriteKubeconfig = parsed.GetValue(writeKubeconfig)!,
                WriteKubeconfigMode = ParseMode(parsed.GetValue(writeKubeconfigMode)!),
                Token = parsed.GetValue(token),
                TokenAuthFile = parsed.GetValue(tokenAuthFile),
                AnonymousAuth = parsed.GetValue(anonymousAuth),
                DisabledAdmissionPlugins = ApiServer.Admission.AdmissionPlugins.Parse(parsed.GetValue(disableAdmissionPlugins) ?? []),
                DisableScheduler = parsed.GetValue(disableScheduler),
                DisableControllerManager = parsed.GetValue(disableControllerManager),
                NodeMonitorGracePeriod = parsed.GetValue(nodeMonitorGracePeriod),
                DisableLeaderElection = parsed.GetValue(disableLeaderElection),
                DefaultLocalStoragePath = parsed.GetValue(localStoragePath),
                DisableAgent = parsed.GetValue(disableAgent),
                Agent = agentFlags.Read(parsed),
            };
            return RunAsync(options, common, parsed, cancellationToken);
        });
        return command;
    }

    private static string DefaultKubeconfig() =>
        Environment.IsPrivilegedProcess
            ? "/etc/lotse/lotse.yaml"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "lotse.yaml");

    private static int ParseMode(string text)
    {
        try
        {
            var mode = Convert.ToInt32(text, 8);
            return mode is >= 0 and <= 511 ? mode : throw new FormatException();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new Configuration.ConfigException($"--write-kubeconfig-mode \"{text}\" is not an octal file mode such as 0600 or 0644");
        }
    }

    private static async Task<int> RunAsync(ServerOptions options, CommonOptions common, ParseResult parsed, CancellationToken cancellationToken)
    {
        await LotseServer.RunAsync(options, common.Logging(parsed), cancellationToken);
        return 0;
    }
}
