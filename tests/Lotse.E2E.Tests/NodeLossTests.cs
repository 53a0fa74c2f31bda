using System.Text.RegularExpressions;

namespace Lotse.E2E.Tests;

/// <summary>
/// A node that goes silent (its hollow-node process killed) is NotReady and tainted unreachable after the
/// server's --node-monitor-grace-period; its pods are evicted once their toleration runs out and their
/// replacements wait for a node; when the node comes back, the taints go and the rollout completes.
/// </summary>
public sealed class NodeLossTests
{
    private const string Manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              tolerations:
              - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
              containers:
              - {name: web, image: nginx:1.27}
        """;

    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    [KubectlFact]
    public async Task ASilentNode_IsTaintedUnreachable_ItsPodsEvicted_AndItRecovers()
    {
        await using var server = new LotseServerProcess();
        await server.StartAsync("--node-monitor-grace-period", "4s");
        var kubectl = new Kubectl(Kubectl.PathOf("1.33"), server.Kubeconfig, Directory.CreateDirectory(Path.Combine(server.DataDir, "kubectl-cache")).FullName);
        var agent = HollowAgent.Start(server.Kubeconfig, nodes: 2, leaseInterval: "1s");
        try
        {
            await UntilAsync(kubectl, ["get", "nodes"], o => Regex.Count(o, @"\sReady\s") == 2, "both hollow nodes are Ready");
            Ok(await kubectl.RunWithInputAsync(Manifest, "apply", "-f", "-"));
            Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));
            var before = (await kubectl.RunAsync("get", "pods", "-o", "name")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

            await HollowAgent.StopAsync(agent);
            await UntilAsync(kubectl, ["get", "nodes"], o => Regex.Count(o, @"\sNotReady\s") == 2, "both nodes are NotReady");
            var described = (await kubectl.RunAsync("describe", "node", "hollow-node-0")).Stdout;
            Assert.Matches(@"Taints:\s+node\.kubernetes\.io/unreachable:NoExecute", described);
            Assert.Contains("Kubelet stopped posting node status.", described, StringComparison.Ordinal);

            // Past the 2 s toleration the pods are evicted (terminating on the lost node); their
            // replacements have nowhere to go.
            await UntilAsync(kubectl, ["get", "pods"], o => Regex.Count(o, @"\sTerminating\s") == 2 && Regex.Count(o, @"\sPending\s") == 2, "the pods are evicted and replaced");
            var pod = before[0]["pod/".Length..];
            var condition = (await kubectl.RunAsync("get", "pod", pod, "-o", "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}")).Stdout;
            Assert.Equal("DeletionByTaintManager", condition);
            Assert.Matches($@"Normal\s+TaintManagerEviction\s+\S+\s+taint-eviction-controller\s+Marking for deletion Pod default/{pod}", (await kubectl.RunAsync("describe", "pod", pod)).Stdout);

            agent.Dispose();
            agent = HollowAgent.Start(server.Kubeconfig, nodes: 2, leaseInterval: "1s");
            await UntilAsync(kubectl, ["get", "nodes"], o => Regex.Count(o, @"\sReady\s") == 2, "the nodes are back");
            Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));
            Assert.DoesNotContain("unreachable", (await kubectl.RunAsync("describe", "node", "hollow-node-0")).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await HollowAgent.StopAsync(agent);
            agent.Dispose();
        }
    }

    private static async Task UntilAsync(Kubectl kubectl, string[] args, Func<string, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        (int ExitCode, string Stdout, string Stderr) last;
        while (!done((last = await kubectl.RunAsync(args)).Stdout))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}:\n{last.Stdout}{last.Stderr}");
            await Task.Delay(250);
        }
    }
}
