using System.CommandLine;
using k8s;
using Lotse.Agent;
using Lotse.Agent.Hollow;
using Lotse.Agent.Join;
using Lotse.ApiServer;
using Lotse.ApiServer.Security;
using Microsoft.Extensions.Logging;

namespace Lotse.Commands;

internal static class AgentCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var agentFlags = new AgentFlags();
        var server = new Option<string?>("--server", "-s") { Description = "Server to join (https://HOST:6443)" };
        var token = new Option<string?>("--token", "-t") { Description = "Join token of the server (<data-dir>/server/token on the server)" };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the join token" };
        var hollowNodes = new Option<int>("--hollow-nodes") { Description = "Test instrument: run this many simulated nodes (no containers) instead of a node agent" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig to reach the API server with (hollow nodes)" };
        var leaseInterval = new Option<TimeSpan>("--lease-interval") { Description = "How often hollow nodes renew their Leases", DefaultValueFactory = _ => TimeSpan.FromSeconds(10), CustomParser = r => Durations.Parse(r) };
        var podStartDelay = new Option<TimeSpan>("--pod-start-delay") { Description = "How long after binding hollow nodes report a pod running", DefaultValueFactory = _ => TimeSpan.FromMilliseconds(5), CustomParser = r => Durations.Parse(r) };
        var cpu = new Option<string>("--hollow-cpu") { Description = "CPU each hollow node offers", DefaultValueFactory = _ => "4" };
        var memory = new Option<string>("--hollow-memory") { Description = "Memory each hollow node offers", DefaultValueFactory = _ => "16Gi" };
        var pods = new Option<int>("--hollow-pods") { Description = "Pods each hollow node takes", DefaultValueFactory = _ => 110 };
        var command = new Command("agent", "Run a node agent (containerd and the kubelet) that joins a server with its token; --hollow-nodes runs simulated nodes for tests instead.");
        common.AddTo(command);
        agentFlags.AddTo(command);
        foreach (var option in new Option[] { server, token, tokenFile, hollowNodes, kubeconfig, leaseInterval, podStartDelay, cpu, memory, pods })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellationToken) =>
        {
            var count = parsed.GetValue(hollowNodes);
            if (count > 0)
            {
                var path = parsed.GetValue(kubeconfig);
                if (string.IsNullOrEmpty(path) || !File.Exists(path))
                {
                    Console.Error.WriteLine($"lotse: --hollow-nodes needs --kubeconfig with a readable kubeconfig file{(string.IsNullOrEmpty(path) ? string.Empty : $" (\"{path}\" not found)")}");
                    return 2;
                }

                var options = new HollowNodeOptions
                {
                    Count = count,
                    NamePrefix = parsed.GetValue(agentFlags.NodeName) ?? "hollow-node-",
                    LeaseInterval = parsed.GetValue(leaseInterval),
                    PodStartDelay = parsed.GetValue(podStartDelay),
                    Cpu = parsed.GetValue(cpu)!,
                    Memory = parsed.GetValue(memory)!,
                    Pods = parsed.GetValue(pods),
                };
                using var hollowLogging = LoggerFactory.Create(common.Logging(parsed));
                using var hollowClient = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
                using var set = new HollowNodeSet(hollowClient, options, hollowLogging);
                Console.Error.WriteLine($"lotse: running {count} hollow nodes ({options.NamePrefix}0…) against {hollowClient.BaseUri}");
                await set.RunAsync(cancellationToken);
                return 0;
            }

            var url = parsed.GetValue(server);
            var secret = parsed.GetValue(token) ?? (parsed.GetValue(tokenFile) is { } file && File.Exists(file) ? (await File.ReadAllTextAsync(file, cancellationToken)).Trim() : null);
            if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(secret))
            {
                Console.Error.WriteLine("lotse: an agent joins a server: pass --server https://HOST:6443 and --token (or --token-file) with the server's join token from <data-dir>/server/token (a server runs its own node agent already)");
                return 2;
            }

            return await RunAsync(url, JoinToken.Parse(secret), agentFlags.Read(parsed), parsed.GetValue(common.DataDir)!, common.Logging(parsed), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string server, JoinToken token, AgentSettings settings, string dataDir, Action<ILoggingBuilder> logging, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(logging);
        var log = loggerFactory.CreateLogger("Lotse.Agent");
        NodeAgentOptions options;
        try
        {
            options = settings.Resolve(dataDir, Agent.Node.HostAddress.PrimaryIPv4(), controlPlane: false, "cluster.local");
        }
        catch (ArgumentException e)
        {
            throw new StartupException(e.Message, e);
        }

        options = options with { Kubelet = options.Kubelet with { KubeletVersion = VersionInfo.GitVersion } };
        LogPhase(log, $"Joining {server} as node {options.Kubelet.NodeName}");
        NodeCredentials credentials;
        try
        {
            credentials = await NodeJoin.JoinAsync(server, token.Secret, token.VerifyCa, options.Kubelet.NodeName, options.Kubelet.NodeIp, options.Kubelet.AgentDir, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or HttpRequestException or IOException)
        {
            throw new StartupException($"cannot join {server}: {e.Message}", e);
        }

        if (credentials.Unreachable is { } why)
        {
            LogPhase(log, $"{why}; starting with this node's saved credentials (static pods run until the server is back)");
        }

        options = options with { Serving = credentials.Serving };
        using var client = new Kubernetes(credentials.ClientConfiguration(server.TrimEnd('/'), VersionInfo.UserAgent("kubelet")));
        await using var agent = new NodeAgent(client, options, loggerFactory);
        try
        {
            await agent.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Grpc.Core.RpcException)
        {
            throw new StartupException($"the node agent could not start: {e.Message}", e);
        }

        LogPhase(log, $"Node agent running as {options.Kubelet.NodeName} (CRI at {agent.RuntimeEndpoint})");

        // Start-up garbage (certificates, image import, first lists): collected once, memory handed back.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        LogPhase(log, "Node agent stopped");
        return 0;
    }

    private static void LogPhase(ILogger logger, string phase) => logger.Log(LogLevel.Information, "{Phase}", phase);
}
