using System.Text.RegularExpressions;

namespace Lotse.E2E.Tests;

/// <summary>
/// StatefulSets, DaemonSets and CronJobs driven by kubectl on hollow nodes: ordered pods with their
/// own claims and rollout status/history/undo, one daemon per eligible node, a Job on schedule.
/// </summary>
public sealed class KubectlWorkloadTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private const string StatefulSet = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec:
          serviceName: web
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: "busybox:1.36"}]}
          volumeClaimTemplates:
          - metadata: {name: data}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
        """;

    private const string DaemonSet = """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: c, image: "busybox:1.36"}]}
        """;

    private const string CronJob = """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: tick}
        spec:
          schedule: "* * * * *"
          successfulJobsHistoryLimit: 1
          jobTemplate:
            spec:
              template:
                metadata: {annotations: {lotse.io/hollow-run-seconds: "1", lotse.io/hollow-exit-code: "0"}}
                spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
        """;

    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    private static async Task<string> UntilAsync(Kubectl kubectl, string pattern, string what, int seconds, params string[] args)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var result = await kubectl.RunAsync(args);
            if (Regex.IsMatch(result.Stdout, pattern))
            {
                return result.Stdout;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}:\n{result.Stdout}{result.Stderr}");
            await Task.Delay(250);
        }
    }

    [KubectlFact]
    public async Task StatefulSet_DaemonSet_CronJob_OnHollowNodes()
    {
        using var agent = HollowAgent.Start(fixture.Server.Kubeconfig, nodes: 3, leaseInterval: "2s");
        try
        {
            var kubectl = fixture.Kubectl();
            var old = fixture.Kubectl("1.27");
            await UntilAsync(kubectl, @"(?s)(hollow-node-\d\s+Ready.*){3}", "three hollow nodes are Ready", 30, "get", "nodes");

            // The CronJob first: its minute runs while the rest of the test does.
            Ok(await kubectl.RunWithInputAsync(CronJob, "apply", "-f", "-"));

            // StatefulSet: web-0, web-1, web-2 in order, each with its claim.
            Ok(await kubectl.RunWithInputAsync(StatefulSet, "apply", "-f", "-"));
            var status = await kubectl.RunAsync("rollout", "status", "statefulset/web", "--timeout=90s");
            Ok(status);
            Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", status.Stdout, StringComparison.Ordinal);
            var created = (await kubectl.RunAsync("get", "pods", "-l", "app=web", "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[*].metadata.name}")).Stdout;
            Assert.Equal("web-0 web-1 web-2", created);
            await UntilAsync(kubectl, @"(?s)data-web-0\s+Bound.*data-web-1\s+Bound.*data-web-2\s+Bound", "the three claims are bound", 30, "get", "pvc");
            Assert.Matches(@"(?m)^web\s+3/3\s", (await kubectl.RunAsync("get", "statefulset", "web")).Stdout);

            // A new image rolls from the top down; history shows both revisions; undo goes back.
            Ok(await kubectl.RunAsync("set", "image", "statefulset/web", "c=busybox:1.37"));
            var rolled = await kubectl.RunAsync("rollout", "status", "statefulset/web", "--timeout=90s");
            Ok(rolled);
            Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", rolled.Stdout, StringComparison.Ordinal);
            Assert.Equal("busybox:1.37 busybox:1.37 busybox:1.37", (await kubectl.RunAsync("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}")).Stdout);
            foreach (var runner in new[] { kubectl, old })
            {
                var history = await runner.RunAsync("rollout", "history", "statefulset/web");
                Ok(history);
                Assert.Matches(@"(?m)^1\s+<none>\s*$", history.Stdout);
                Assert.Matches(@"(?m)^2\s+<none>\s*$", history.Stdout);
            }

            var undo = await old.RunAsync("rollout", "undo", "statefulset/web");
            Ok(undo);
            Assert.Contains("statefulset.apps/web rolled back", undo.Stdout, StringComparison.Ordinal);
            Ok(await kubectl.RunAsync("rollout", "status", "statefulset/web", "--timeout=90s"));
            Assert.Equal("busybox:1.36 busybox:1.36 busybox:1.36", (await kubectl.RunAsync("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}")).Stdout);
            Assert.Matches(@"(?m)^3\s+<none>\s*$", (await kubectl.RunAsync("rollout", "history", "statefulset/web")).Stdout);

            // DaemonSet: every node but the tainted one.
            Ok(await kubectl.RunAsync("taint", "node", "hollow-node-2", "dedicated=db:NoSchedule"));
            Ok(await kubectl.RunWithInputAsync(DaemonSet, "apply", "-f", "-"));
            var daemon = await kubectl.RunAsync("rollout", "status", "daemonset/agent", "--timeout=60s");
            Ok(daemon);
            Assert.Contains("daemon set \"agent\" successfully rolled out", daemon.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^agent\s+2\s+2\s+2\s+2\s+2\s", (await kubectl.RunAsync("get", "daemonset", "agent")).Stdout);
            var nodes = (await kubectl.RunAsync("get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}")).Stdout.Split(' ').Order(StringComparer.Ordinal);
            Assert.Equal(["hollow-node-0", "hollow-node-1"], nodes);
            Ok(await kubectl.RunAsync("taint", "node", "hollow-node-2", "dedicated-"));
            await UntilAsync(kubectl, @"(?m)^agent\s+3\s+3\s+3\s+3\s+3\s", "the untainted node gets its daemon", 30, "get", "daemonset", "agent");

            // CronJob: a Job within the minute, finished on its hollow node, seen in the CronJob's status.
            await UntilAsync(kubectl, @"(?m)^tick-\d+\s+(Complete\s+)?1/1\s", "the CronJob's job completes", 75, "get", "jobs");
            await UntilAsync(kubectl, @"(?m)^tick\s+\* \* \* \* \*\s+(<none>\s+)?False\s+0\s+\d+s\s", "the CronJob shows its last schedule and no active job", 30, "get", "cronjob", "tick");
            Assert.Matches(@"Normal\s+SuccessfulCreate\s+\S+\s+cronjob-controller\s+Created job tick-\d+", (await kubectl.RunAsync("describe", "cronjob", "tick")).Stdout);

            // Deleting the owners takes their pods (the garbage collector tracks all three kinds).
            Ok(await kubectl.RunAsync("delete", "statefulset/web", "daemonset/agent", "cronjob/tick"));
            await UntilAsync(kubectl, @"^\s*$", "the pods of the deleted workloads are gone", 30, "get", "pods", "-o", "name");
        }
        finally
        {
            await HollowAgent.StopAsync(agent);
        }
    }
}
