using System.Text.RegularExpressions;

namespace Lotse.E2E.Tests;

/// <summary>
/// <c>kubectl drain</c> on hollow nodes: the node is cordoned, its pods go through the eviction API,
/// a PodDisruptionBudget holds back what would drop the service below its minimum until replacements
/// are ready elsewhere, and drain reports the node drained. The same cluster then serves the other
/// control loops a workload meets: controller events, an autoscaler's bounds, local-path storage.
/// </summary>
public sealed class DrainTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    [KubectlFact]
    public async Task Drain_EvictsThroughTheBudget_AndLeavesTheNodeEmptyAndCordoned()
    {
        using var agent = HollowAgent.Start(fixture.Server.Kubeconfig, nodes: 3, leaseInterval: "2s");
        try
        {
            var kubectl = fixture.Kubectl();
            var creator = fixture.Kubectl("1.31");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await kubectl.RunAsync("get", "nodes")).Stdout.Split('\n').Count(l => l.Contains(" Ready ", StringComparison.Ordinal)) < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, "hollow nodes did not become Ready");
                await Task.Delay(200);
            }

            Ok(await creator.RunAsync("create", "deployment", "web", "--image=nginx:1.27", "--replicas=4"));
            Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));
            // The controllers say what they did, as kubectl describe shows it.
            Assert.Matches(@"Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-\w+ from 0 to 4", (await kubectl.RunAsync("describe", "deployment", "web")).Stdout);
            Assert.Matches(@"Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-\w+-\w+", (await kubectl.RunAsync("describe", "replicaset")).Stdout);
            Ok(await creator.RunAsync("create", "pdb", "web", "--selector=app=web", "--min-available=3"));
            deadline = DateTime.UtcNow.AddSeconds(30);
            (int ExitCode, string Stdout, string Stderr) budget;
            while (!BudgetRow(allowed: 1).IsMatch((budget = await kubectl.RunAsync("get", "pdb", "web")).Stdout))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the budget did not allow one disruption:\n{budget.Stdout}{budget.Stderr}");
                await Task.Delay(200);
            }

            // Drain the node with the most web pods; with 4 replicas and minAvailable 3 only one may go
            // at a time, so drain retries the rest until their replacements are ready elsewhere.
            foreach (var version in (string[])["1.33", "1.27"])
            {
                var node = Busiest(await NodesOfWebAsync(kubectl));
                var drain = await fixture.Kubectl(version).RunAsync("drain", node, "--ignore-daemonsets", "--timeout=120s");
                Ok(drain);
                Assert.Contains($"node/{node} cordoned", drain.Stdout, StringComparison.Ordinal);
                Assert.Contains($"node/{node} drained", drain.Stdout, StringComparison.Ordinal);
                Assert.Matches(@"evicting pod default/web-", drain.Stdout + drain.Stderr);
                if (version == "1.33")
                {
                    // The busiest node holds at least two of the four pods; drain evicts them at once and
                    // the budget lets only one go before its replacement is ready.
                    Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", drain.Stdout + drain.Stderr, StringComparison.Ordinal);
                }


                var placed = await NodesOfWebAsync(kubectl);
                Assert.DoesNotContain(node, placed);
                Assert.Matches($@"(?m)^{node}\s+Ready,SchedulingDisabled\s", (await kubectl.RunAsync("get", "nodes")).Stdout);
                Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));
                Ok(await kubectl.RunAsync("uncordon", node));
            }

            // Evicting beyond the budget directly is refused with kube's words.
            Ok(await kubectl.RunAsync("scale", "deployment/web", "--replicas=3"));
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (!BudgetRow(allowed: 0).IsMatch((await kubectl.RunAsync("get", "pdb", "web")).Stdout))
            {
                Assert.True(DateTime.UtcNow < deadline, "the budget did not reach zero allowed disruptions");
                await Task.Delay(200);
            }

            // An autoscaler keeps the deployment within its bounds; without a metrics API it cannot read CPU.
            const string Autoscaler = """
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata: {name: web}
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
                  minReplicas: 4
                  maxReplicas: 6
                  metrics:
                  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}
                """;
            Ok(await kubectl.RunWithInputAsync(Autoscaler, "apply", "-f", "-"));
            deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await kubectl.RunAsync("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}")).Stdout != "4")
            {
                Assert.True(DateTime.UtcNow < deadline, "the autoscaler did not raise the deployment to its minimum");
                await Task.Delay(200);
            }

            Assert.Matches(@"(?m)^web\s+Deployment/web\s+cpu: <unknown>/50%\s+4\s+6\s+\d+\s", (await kubectl.RunAsync("get", "hpa", "web")).Stdout);
            Assert.Contains("New size: 4; reason: Current number of replicas below Spec.MinReplicas", (await kubectl.RunAsync("describe", "hpa", "web")).Stdout, StringComparison.Ordinal);
            Ok(await kubectl.RunAsync("delete", "hpa", "web"));
            Ok(await kubectl.RunAsync("scale", "deployment/web", "--replicas=3"));
            Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));

            var pod = (await kubectl.RunAsync("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")).Stdout;
            var eviction = $$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{pod}}","namespace":"default"} }""";
            var refused = await kubectl.RunWithInputAsync(eviction, "create", "--raw", $"/api/v1/namespaces/default/pods/{pod}/eviction", "-f", "-");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", refused.Stderr, StringComparison.Ordinal);

            // A claim of the default local-path class waits for its pod, then is provisioned on the pod's node.
            const string Claimed = """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: data}
                spec:
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: 1Gi}}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: user}
                spec:
                  containers: [{name: c, image: busybox}]
                  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
                """;
            Ok(await kubectl.RunWithInputAsync(Claimed, "apply", "-f", "-"));
            deadline = DateTime.UtcNow.AddSeconds(30);
            (int ExitCode, string Stdout, string Stderr) claim;
            while (!Regex.IsMatch((claim = await kubectl.RunAsync("get", "pvc", "data")).Stdout, @"(?m)^data\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+local-path\s"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the claim was not provisioned:\n{claim.Stdout}{claim.Stderr}");
                await Task.Delay(200);
            }

            var userNode = (await kubectl.RunAsync("get", "pod", "user", "-o", "jsonpath={.spec.nodeName}")).Stdout;
            var volumeNode = (await kubectl.RunAsync("get", "pv", "-o", "jsonpath={.items[0].spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}")).Stdout;
            Assert.Equal(userNode, volumeNode);
        }
        finally
        {
            await HollowAgent.StopAsync(agent);
        }
    }

    [KubectlFact]
    public async Task TheServer_HoldsTheControlLoopLeases_AndServesLocalPathStorage()
    {
        var leases = await fixture.Kubectl().RunAsync("get", "leases", "-n", "kube-system");
        Ok(leases);
        var holder = $@"{Regex.Escape(Environment.MachineName)}_[0-9a-f]{{8}}";
        Assert.Matches($@"(?m)^kube-controller-manager\s+{holder}\s", leases.Stdout);
        Assert.Matches($@"(?m)^kube-scheduler\s+{holder}\s", leases.Stdout);
        Assert.Contains("Controllers and scheduler running", fixture.Server.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^local-path \(default\)\s+rancher\.io/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s", (await fixture.Kubectl().RunAsync("get", "storageclass")).Stdout);
    }

    private static async Task<List<string>> NodesOfWebAsync(Kubectl kubectl) =>
        [.. (await kubectl.RunAsync("get", "pods", "-l", "app=web", "--field-selector=status.phase=Running", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"))
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    private static string Busiest(List<string> nodes) =>
        nodes.GroupBy(n => n).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;

    /// <summary>kubectl get pdb: NAME, MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS, AGE.</summary>
    private static Regex BudgetRow(int allowed) => new($@"(?m)^web\s+3\s+N/A\s+{allowed}\s+\d+s$");
}
