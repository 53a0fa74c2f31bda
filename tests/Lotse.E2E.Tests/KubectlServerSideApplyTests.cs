using System.Text.RegularExpressions;

namespace Lotse.E2E.Tests;

/// <summary>
/// <c>kubectl apply --server-side</c> (1.27 and 1.33): applied twice, a conflict with another
/// writer refused in kube's words, taken over with <c>--force-conflicts</c>, and the managers shown;
/// an object made with <c>kubectl create</c> is owned by <c>kubectl-create</c> from the start.
/// </summary>
public sealed class KubectlServerSideApplyTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static string Deployment(string name, int replicas) => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{name}}, labels: {app: {{name}} } }
        spec:
          replicas: {{replicas}}
          selector: {matchLabels: {app: {{name}} } }
          template:
            metadata: {labels: {app: {{name}} } }
            spec: {containers: [{name: web, image: "nginx:1.27"}]}
        """;

    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    [KubectlTheory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task ApplyServerSide_Twice_ConflictsWithAnotherWriter_UntilForced(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var name = "ssa-" + version.Replace(".", string.Empty, StringComparison.Ordinal);
        foreach (var round in new[] { 1, 2 })
        {
            var applied = await kubectl.RunWithInputAsync(Deployment(name, 2), "apply", "--server-side", "-f", "-");
            Ok(applied);
            Assert.Contains($"deployment.apps/{name} serverside-applied", applied.Stdout, StringComparison.Ordinal);
        }

        Ok(await kubectl.RunAsync("scale", $"deployment/{name}", "--replicas=5"));
        var refused = await kubectl.RunWithInputAsync(Deployment(name, 3), "apply", "--server-side", "-f", "-");
        Assert.Equal(1, refused.ExitCode);
        Assert.True(Regex.IsMatch(refused.Stderr, @"Apply failed with 1 conflict: conflict with ""[^""]+""( with subresource ""scale"")?( using apps/v1)?: \.spec\.replicas"), refused.Stderr);
        Assert.Equal("5", (await kubectl.RunAsync("get", "deployment", name, "-o", "jsonpath={.spec.replicas}")).Stdout);

        var forced = await kubectl.RunWithInputAsync(Deployment(name, 3), "apply", "--server-side", "--force-conflicts", "-f", "-");
        Ok(forced);
        Assert.Equal("3", (await kubectl.RunAsync("get", "deployment", name, "-o", "jsonpath={.spec.replicas}")).Stdout);
        var yaml = await kubectl.RunAsync("get", "deployment", name, "-o", "yaml", "--show-managed-fields");
        Ok(yaml);
        Assert.Matches(@"manager: kubectl\s", yaml.Stdout);
        Assert.Contains("operation: Apply", yaml.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("managedFields", (await kubectl.RunAsync("get", "deployment", name, "-o", "yaml")).Stdout, StringComparison.Ordinal);
    }

    [KubectlTheory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task CreateThenApplyServerSide_ConflictsWithKubectlCreate(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var name = "created-" + version.Replace(".", string.Empty, StringComparison.Ordinal);
        Ok(await kubectl.RunWithInputAsync(Deployment(name, 2), "create", "-f", "-"));
        var shown = await kubectl.RunAsync("get", "deployment", name, "-o", "yaml", "--show-managed-fields");
        Ok(shown);
        Assert.Matches(@"manager: kubectl-create\s", shown.Stdout);
        Assert.Contains("operation: Update", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("f:replicas: {}", shown.Stdout, StringComparison.Ordinal);

        var refused = await kubectl.RunWithInputAsync(Deployment(name, 3), "apply", "--server-side", "-f", "-");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("2", (await kubectl.RunAsync("get", "deployment", name, "-o", "jsonpath={.spec.replicas}")).Stdout);

        // The same value is no conflict: both own it. The applier's entry comes first (Apply before
        // Update); the Update entries follow by time, then manager — kubectl-create beside the
        // controller-manager's writes of the same second (when they came already).
        Ok(await kubectl.RunWithInputAsync(Deployment(name, 2), "apply", "--server-side", "-f", "-"));
        var managers = (await kubectl.RunAsync("get", "deployment", name, "-o", "jsonpath={.metadata.managedFields[*].manager}")).Stdout.Split(' ');
        Assert.Equal("kubectl", managers[0]);
        Assert.Contains("kubectl-create", managers);
    }
}
