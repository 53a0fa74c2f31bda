using System.Diagnostics;

namespace Lotse.E2E.Tests;

/// <summary>Skips where kpt is not installed (these machines have it at /usr/bin/kpt).</summary>
public sealed class KptFactAttribute : FactAttribute
{
    public const string Kpt = "/usr/bin/kpt";

    public KptFactAttribute()
    {
        if (!File.Exists(Kpt))
        {
            Skip = $"kpt is not installed at {Kpt}";
        }
    }
}

/// <summary>
/// kpt's live apply against the real server: <c>kpt live init</c> and <c>kpt live apply</c> of a small
/// package (kpt installs its ResourceGroup CRD and keeps its inventory in one), then <c>kpt live destroy</c>.
/// </summary>
public sealed class KptTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private const string Package = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: kpt-config, namespace: default}
        data: {mode: live}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: kpt-web, namespace: default}
        spec:
          replicas: 0
          selector: {matchLabels: {app: kpt-web}}
          template:
            metadata: {labels: {app: kpt-web}}
            spec: {containers: [{name: web, image: "nginx:1.27"}]}
        """;

    private async Task<(int ExitCode, string Output)> KptAsync(string directory, params string[] args)
    {
        var info = new ProcessStartInfo(KptFactAttribute.Kpt) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["KUBECONFIG"] = fixture.Server.Kubeconfig;
        info.Environment["HOME"] = directory;
        using var kpt = Process.Start(info)!;
        var stdout = kpt.StandardOutput.ReadToEndAsync();
        var stderr = kpt.StandardError.ReadToEndAsync();
        try
        {
            await kpt.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        finally
        {
            if (!kpt.HasExited)
            {
                kpt.Kill();
            }
        }

        return (kpt.ExitCode, await stdout + await stderr);
    }

    [KptFact]
    public async Task LiveInitApplyDestroy()
    {
        var directory = Path.Combine(fixture.Server.DataDir, "kpt-package");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "resources.yaml"), Package);

        var init = await KptAsync(directory, "live", "init");
        Assert.True(init.ExitCode == 0, init.Output);
        var apply = await KptAsync(directory, "live", "apply");
        Assert.True(apply.ExitCode == 0, apply.Output);
        Assert.Contains("apply result: 2 attempted, 2 successful, 0 skipped, 0 failed", apply.Output, StringComparison.Ordinal);
        Assert.Contains("reconcile result: 2 attempted, 2 successful", apply.Output, StringComparison.Ordinal);
        Assert.Equal("live", (await fixture.Kubectl().RunAsync("get", "configmap", "kpt-config", "-o", "jsonpath={.data.mode}")).Stdout);
        Assert.Contains("resourcegroups.kpt.dev", (await fixture.Kubectl().RunAsync("get", "crd")).Stdout, StringComparison.Ordinal);

        var destroy = await KptAsync(directory, "live", "destroy");
        Assert.True(destroy.ExitCode == 0, destroy.Output);
        Assert.Contains("delete result: 2 attempted, 2 successful", destroy.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, (await fixture.Kubectl().RunAsync("get", "configmap", "kpt-config")).ExitCode);
    }
}
