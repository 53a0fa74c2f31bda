namespace Lotse.E2E.Tests;

/// <summary>kubectl 1.32+ sends create generators' bodies as Kubernetes protobuf; the server decodes them.</summary>
public sealed class KubectlProtobufTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    [KubectlTheory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task CreateGenerators_SendProtobuf_AndTheObjectsAreWhatWasAsked(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var suffix = version.Replace(".", string.Empty, StringComparison.Ordinal);
        async Task OkAsync(string expected, params string[] args)
        {
            var result = await kubectl.RunAsync(args);
            Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed:\n{result.Stderr}");
            Assert.Contains(expected, result.Stdout, StringComparison.Ordinal);
        }

        await OkAsync($"deployment.apps/web{suffix} created", "create", "deployment", $"web{suffix}", "--image=nginx:1.27", "--replicas=2", "--port=80");
        await OkAsync($"secret/sec{suffix} created", "create", "secret", "generic", $"sec{suffix}", "--from-literal=p=s3");
        await OkAsync($"resourcequota/q{suffix} created", "create", "quota", $"q{suffix}", "--hard=pods=10,cpu=2");
        await OkAsync($"cronjob.batch/cj{suffix} created", "create", "cronjob", $"cj{suffix}", "--image=busybox", "--schedule=*/5 * * * *", "--", "echo", "hi");
        Assert.Equal("2 nginx:1.27 80", (await kubectl.RunAsync("get", "deployment", $"web{suffix}", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}")).Stdout);
        Assert.Equal("czM=", (await kubectl.RunAsync("get", "secret", $"sec{suffix}", "-o", "jsonpath={.data.p}")).Stdout);
        Assert.Equal("{\"cpu\":\"2\",\"pods\":\"10\"}", (await kubectl.RunAsync("get", "quota", $"q{suffix}", "-o", "jsonpath={.spec.hard}")).Stdout);
        Assert.Contains("yes", (await kubectl.RunAsync("auth", "can-i", "get", "pods")).Stdout, StringComparison.Ordinal);
    }
}
