using k8s;
using Lotse.Agent;
using Lotse.ApiServer.Security;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

/// <summary>
/// The node agent a server runs on its own host (unless --disable-agent): a client of the API with
/// the node's identity (<c>system:node:&lt;name&gt;</c> in <c>system:nodes</c>), as an agent on
/// another host would have, labelled as a control-plane node.
/// </summary>
internal static class LocalAgent
{
    public static async Task<(NodeAgent Agent, Kubernetes Client)> StartAsync(string server, ClusterPki pki, ServerOptions options, string hostAddress, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var agentOptions = options.Agent.Resolve(options.DataDir, hostAddress, controlPlane: true, options.ClusterDomain);
        var node = agentOptions.Kubelet;
        var (servingCertificate, servingKey) = pki.IssueServingCertificate(node.NodeName, [node.NodeName, node.NodeIp, "127.0.0.1"], TimeSpan.FromDays(365));
        agentOptions = agentOptions with
        {
            Kubelet = node with { KubeletVersion = ApiServer.VersionInfo.GitVersion },
            Serving = new Agent.Kubelet.KubeletServing(servingCertificate, servingKey, pki.ClientCaPem),
        };
        var client = LoopbackClient.Create(server, pki, $"system:node:{agentOptions.Kubelet.NodeName}", ["system:nodes"], "kubelet");
        var agent = new NodeAgent(client, agentOptions, loggerFactory);
        try
        {
            await agent.StartAsync(cancellationToken);
            return (agent, client);
        }
        catch
        {
            await agent.DisposeAsync();
            client.Dispose();
            throw;
        }
    }
}
