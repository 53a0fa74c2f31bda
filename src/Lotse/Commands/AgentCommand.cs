using System.CommandLine;
using k8s;
using Lotse.Agent.Hollow;
using Microsoft.Extensions.Logging;

namespace Lotse.Commands;

internal static class AgentCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var server = new Option<string?>("--server", "-s") { Description = "Server to connect to (https://HOST:6443)" };
        var token = new Option<string?>("--token", "-t") { Description = "Join token of the server" };
        var hollowNodes = new Option<int>("--hollow-nodes") { Description = "Test instrument: run this many simulated nodes (no containers) instead of a node agent" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig to reach the API server with (hollow nodes)" };
        var nodeName = new Option<string>("--node-name") { Description = "Node name (hollow nodes: the prefix of their names)", DefaultValueFactory = _ => "hollow-node-" };
        var leaseInterval = new Option<TimeSpan>("--lease-interval") { Description = "How often hollow nodes renew their Leases", DefaultValueFactory = _ => TimeSpan.FromSeconds(10), CustomParser = r => Durations.Parse(r) };
        var podStartDelay = new Option<TimeSpan>("--pod-start-delay") { Description = "How long after binding hollow nodes report a pod running", DefaultValueFactory = _ => TimeSpan.FromMilliseconds(5), CustomParser = r => Durations.Parse(r) };
        var cpu = new Option<string>("--hollow-cpu") { Description = "CPU each hollow node offers", DefaultValueFactory = _ => "4" };
        var memory = new Option<string>("--hollow-memory") { Description = "Memory each hollow node offers", DefaultValueFactory = _ => "16Gi" };
        var pods = new Option<int>("--hollow-pods") { Description = "Pods each hollow node takes", DefaultValueFactory = _ => 110 };
        var command = new Command("agent", "Run a node agent that joins a server (joining from another host is not yet available: `lotse server` runs a node agent on its own host; --hollow-nodes runs simulated ones for tests).");
        common.AddTo(command);
        foreach (var option in new Option[] { server, token, hollowNodes, kubeconfig, nodeName, leaseInterval, podStartDelay, cpu, memory, pods })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellationToken) =>
        {
            var count = parsed.GetValue(hollowNodes);
            if (count <= 0)
            {
                Console.Error.WriteLine("lotse: joining a server from another host is not yet available in this release; `lotse server` runs a node agent on its own host (or --hollow-nodes N runs simulated nodes)");
                return 2;
            }

            var path = parsed.GetValue(kubeconfig);
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                Console.Error.WriteLine($"lotse: --hollow-nodes needs --kubeconfig with a readable kubeconfig file{(string.IsNullOrEmpty(path) ? string.Empty : $" (\"{path}\" not found)")}");
                return 2;
            }

            var options = new HollowNodeOptions
            {
                Count = count,
                NamePrefix = parsed.GetValue(nodeName)!,
                LeaseInterval = parsed.GetValue(leaseInterval),
                PodStartDelay = parsed.GetValue(podStartDelay),
                Cpu = parsed.GetValue(cpu)!,
                Memory = parsed.GetValue(memory)!,
                Pods = parsed.GetValue(pods),
            };
            using var loggerFactory = LoggerFactory.Create(common.Logging(parsed));
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
            using var set = new HollowNodeSet(client, options, loggerFactory);
            Console.Error.WriteLine($"lotse: running {count} hollow nodes ({options.NamePrefix}0…) against {client.BaseUri}");
            await set.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
