namespace Lotse.E2E.Tests;

/// <summary>The control loops of <c>lotse server</c> seen through kubectl: deployments roll and roll back, deletes cascade, namespaces empty.</summary>
public sealed class KubectlControllerTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(200);
        }
    }

    [KubectlFact]
    public async Task KubectlAutoscale_OfEveryVersion_MakesAnAutoscalerTheControllerActsOn()
    {
        var kubectl = fixture.Kubectl();
        Ok(await kubectl.RunAsync("create", "namespace", "hpa"));
        Ok(await kubectl.RunAsync("create", "deployment", "api", "-n", "hpa", "--image=nginx:1.27", "--replicas=1"));

        // kubectl before 1.33 writes autoscaling/v1, 1.33 autoscaling/v2: either way `get hpa` shows it and the deployment is raised to the minimum.
        Ok(await fixture.Kubectl("1.27").RunAsync("autoscale", "deployment", "api", "-n", "hpa", "--min=2", "--max=4", "--cpu-percent=60"));
        var table = await kubectl.RunAsync("get", "hpa", "api", "-n", "hpa");
        Ok(table);
        Assert.Matches(@"(?m)^api\s+Deployment/api\s+cpu: <unknown>/60%\s+2\s+4\s", table.Stdout);
        await EventuallyAsync(async () => (await kubectl.RunAsync("get", "deployment", "api", "-n", "hpa", "-o", "jsonpath={.spec.replicas}")).Stdout == "2", "the autoscaler raises the deployment to its minimum");
        Assert.Equal("60", (await fixture.Kubectl("1.27").RunAsync("get", "hpa.v1.autoscaling", "api", "-n", "hpa", "-o", "jsonpath={.spec.targetCPUUtilizationPercentage}")).Stdout);
        Ok(await kubectl.RunAsync("delete", "namespace", "hpa", "--wait=false"));
    }

    [KubectlFact]
    public async Task Deployment_ScaleSetImageHistoryUndo_ThenCascadingDeletes()
    {
        var creator = fixture.Kubectl("1.31");
        var kubectl = fixture.Kubectl();
        Ok(await creator.RunAsync("create", "namespace", "ctl"));
        Ok(await creator.RunAsync("create", "deployment", "web", "-n", "ctl", "--image=nginx:1.27", "--replicas=2"));
        async Task<int> PodsAsync() => (await kubectl.RunAsync("get", "pods", "-n", "ctl", "-o", "name")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        await EventuallyAsync(async () => await PodsAsync() == 2, "the deployment has 2 pods");

        Ok(await kubectl.RunAsync("scale", "deployment", "web", "-n", "ctl", "--replicas=3"));
        await EventuallyAsync(async () => await PodsAsync() == 3, "3 pods after scaling");

        var set = await kubectl.RunAsync("set", "image", "deployment/web", "-n", "ctl", "nginx=nginx:1.28");
        Ok(set);
        Assert.Equal("deployment.apps/web image updated", set.Stdout.Trim());
        await EventuallyAsync(async () => (await kubectl.RunAsync("get", "rs", "-n", "ctl", "-o", "name")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 2, "a second replicaset");

        var history = await kubectl.RunAsync("rollout", "history", "deployment/web", "-n", "ctl");
        Ok(history);
        Assert.Matches(@"(?m)^REVISION\s+CHANGE-CAUSE$", history.Stdout);
        Assert.Matches(@"(?m)^1\s+<none>$", history.Stdout);
        Assert.Matches(@"(?m)^2\s+<none>$", history.Stdout);

        var undo = await kubectl.RunAsync("rollout", "undo", "deployment/web", "-n", "ctl");
        Ok(undo);
        Assert.Equal("deployment.apps/web rolled back", undo.Stdout.Trim());
        await EventuallyAsync(async () => (await kubectl.RunAsync("get", "deployment", "web", "-n", "ctl", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}")).Stdout == "3", "the rollback is revision 3");
        var image = await kubectl.RunAsync("get", "deployment", "web", "-n", "ctl", "-o", "jsonpath={.spec.template.spec.containers[0].image}");
        Assert.Equal("nginx:1.27", image.Stdout);

        // Background cascade: the deployment goes at once, its replicasets and pods follow.
        Ok(await kubectl.RunAsync("delete", "deployment", "web", "-n", "ctl"));
        await EventuallyAsync(async () => await PodsAsync() == 0 && (await kubectl.RunAsync("get", "rs", "-n", "ctl", "-o", "name")).Stdout.Trim().Length == 0, "replicasets and pods are collected");

        // kubectl waits until the namespace is gone: the namespace controller empties and finalizes it.
        Ok(await creator.RunAsync("create", "configmap", "left", "-n", "ctl", "--from-literal=a=b"));
        var deleted = await kubectl.RunAsync("delete", "namespace", "ctl", "--timeout=30s");
        Ok(deleted);
        Assert.Equal("namespace \"ctl\" deleted", deleted.Stdout.Trim());
        var gone = await kubectl.RunAsync("get", "namespace", "ctl");
        Assert.Contains("Error from server (NotFound): namespaces \"ctl\" not found", gone.Stderr, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task NewNamespace_HasDefaultServiceAccountAndRootCa()
    {
        var kubectl = fixture.Kubectl("1.31");
        Ok(await kubectl.RunAsync("create", "namespace", "fresh"));
        await EventuallyAsync(async () => (await kubectl.RunAsync("get", "serviceaccount", "default", "-n", "fresh")).ExitCode == 0, "the default service account exists");
        await EventuallyAsync(async () => (await kubectl.RunAsync("get", "configmap", "kube-root-ca.crt", "-n", "fresh", "-o", "jsonpath={.data.ca\\.crt}")).Stdout.StartsWith("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal), "kube-root-ca.crt holds the cluster CA");
    }
}
