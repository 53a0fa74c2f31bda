using System.Diagnostics;

namespace Lotse.E2E.Tests;

/// <summary>
/// The seed-000 flow on simulated nodes: the real server, <c>lotse agent --hollow-nodes</c> as a
/// second process, and kubectl: nodes Ready, a deployment scheduled and rolled out, a rolling
/// update, a Job that completes. (Hollow nodes run nothing, so no network is touched.)
/// </summary>
public sealed class HollowNodeTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    [KubectlFact]
    public async Task HollowNodes_RunADeploymentThroughARollingUpdate()
    {
        var info = new ProcessStartInfo(LotseServerProcess.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["agent", "--hollow-nodes", "2", "--kubeconfig", fixture.Server.Kubeconfig, "--lease-interval", "2s"])
        {
            info.ArgumentList.Add(arg);
        }

        using var agent = Process.Start(info)!;
        try
        {
            var kubectl = fixture.Kubectl();
            var creator = fixture.Kubectl("1.31");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            (int ExitCode, string Stdout, string Stderr) nodes;
            while ((nodes = await kubectl.RunAsync("get", "nodes")).Stdout.Split('\n').Count(l => l.Contains(" Ready ", StringComparison.Ordinal)) < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"hollow nodes did not become Ready:\n{nodes.Stdout}{nodes.Stderr}");
                await Task.Delay(200);
            }

            Assert.Matches(@"(?m)^hollow-node-0\s+Ready\s+<none>\s+\d+s\s+v1\.33\.0-lotse-hollow$", nodes.Stdout);

            Ok(await creator.RunAsync("create", "deployment", "web", "--image=nginx:1.27", "--replicas=4"));
            var status = await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s");
            Ok(status);
            Assert.Contains("deployment \"web\" successfully rolled out", status.Stdout, StringComparison.Ordinal);
            var pods = await kubectl.RunAsync("get", "pods", "-o", "wide");
            Assert.Equal(4, pods.Stdout.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^web-\S+\s+1/1\s+Running\s+0\s+\S+\s+100\.64\.\d+\.\d+\s+hollow-node-[01]\s")));

            Ok(await kubectl.RunAsync("set", "image", "deployment/web", "nginx=nginx:1.28"));
            Ok(await kubectl.RunAsync("rollout", "status", "deployment/web", "--timeout=60s"));
            var images = await kubectl.RunAsync("get", "pods", "-o", "jsonpath={range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}");
            Assert.Equal(Enumerable.Repeat("nginx:1.28", 4), images.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            var described = await kubectl.RunAsync("describe", "pods");
            Assert.Contains("Successfully assigned default/web-", described.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }
}
