using System.Text.Json;

namespace Lotse.E2E.Tests;

/// <summary>Skips where the node agent cannot run, or docker-registry / skopeo are missing (scripts/deps.sh installs them).</summary>
public sealed class PrivateRegistryFactAttribute : FactAttribute
{
    public PrivateRegistryFactAttribute() => Skip = NodeAgentFactAttribute.Why(PrivateRegistryFixture.Missing);
}

/// <summary>
/// Pulls through <c>--private-registry</c> and image pull secrets, from a real docker-registry
/// with basic auth on 127.0.0.1: a made-up registry name mirrored to it (with the credentials of
/// registries.yaml), a rewritten repository path, and the registry by a host name whose only way in
/// is a pod's dockerconfigjson secret — without it the pull fails, a missing secret is a warning.
/// </summary>
[Collection(NodeAgentsGroup.Name)]
public sealed class PrivateRegistryTests(PrivateRegistryFixture fixture) : IClassFixture<PrivateRegistryFixture>
{
    private readonly Kubectl _kubectl = fixture.Node.Kubectl();

    private static string Pod(string name, string image, string extraSpec = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          nodeName: {{NodeAgentFixture.NodeName}}
          terminationGracePeriodSeconds: 1
        {{extraSpec}}
          containers:
          - name: main
            image: {{image}}
            imagePullPolicy: Always
            command: ["sh", "-c", "cat /etc/pulled-from && exec sleep 3600"]
        """;

    [PrivateRegistryFact]
    public async Task MirroredRegistryName_PullsFromTheMirrorWithItsConfiguredCredentials()
    {
        await ApplyAsync(Pod("mirrored", PrivateRegistryFixture.Mirrored));
        var pod = await WaitForAsync("mirrored", p => Phase(p) == "Running");
        var status = pod.GetProperty("status").GetProperty("containerStatuses")[0];
        Assert.Equal(PrivateRegistryFixture.Mirrored, status.GetProperty("image").GetString());
        Assert.Contains("@sha256:", status.GetProperty("imageID").GetString(), StringComparison.Ordinal);
        await EventAsync("mirrored", $"Successfully pulled image \"{PrivateRegistryFixture.Mirrored}\"");

        // containerd resolved the name on the mirror endpoint (as a mirror: ?ns=) with the credentials
        // registries.yaml has for it, and fetched the image's blobs there.
        AssertRequest(r => r.Contains("msg=\"authorized request\"", StringComparison.Ordinal) && r.Contains($"http.request.host=\"127.0.0.1:{fixture.Port}\"", StringComparison.Ordinal) && r.Contains("/v2/busybox/manifests/1?ns=mirror.lotse.test", StringComparison.Ordinal));
        AssertRequest(r => r.Contains("msg=\"response completed\"", StringComparison.Ordinal) && r.Contains("/v2/busybox/blobs/sha256:", StringComparison.Ordinal) && r.Contains("http.response.status=200", StringComparison.Ordinal));
        Assert.Contains("the-private-registry", (await _kubectl.RunAsync("logs", "mirrored")).Stdout, StringComparison.Ordinal);

        var hosts = await File.ReadAllTextAsync(Path.Combine(fixture.Node.Server.DataDir, "agent", "containerd", "certs.d", "mirror.lotse.test", "hosts.toml"));
        Assert.Contains($"[host.\"http://127.0.0.1:{fixture.Port}\"]", hosts, StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "pod", "mirrored", "--wait=false");
    }

    [PrivateRegistryFact]
    public async Task RewrittenRepository_IsPulledUnderItsMirrorName_TheStatusKeepsThePodsImage()
    {
        await ApplyAsync(Pod("rewritten", PrivateRegistryFixture.Rewritten));
        var pod = await WaitForAsync("rewritten", p => Phase(p) == "Running");
        Assert.Equal(PrivateRegistryFixture.Rewritten, pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("image").GetString());
        AssertRequest(r => r.Contains("msg=\"authorized request\"", StringComparison.Ordinal) && r.Contains("/v2/mirrored/busybox/manifests/1?ns=mirror.lotse.test", StringComparison.Ordinal));
        Assert.Contains("the-private-registry", (await _kubectl.RunAsync("logs", "rewritten")).Stdout, StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "pod", "rewritten", "--wait=false");
    }

    [PrivateRegistryFact]
    public async Task RegistryWithoutConfiguredCredentials_NeedsAnImagePullSecret()
    {
        // Without usable credentials (the secret it names does not exist) the registry refuses the pull.
        await ApplyAsync(Pod("denied", fixture.Private, "  imagePullSecrets: [{name: nope}]\n"));
        var denied = await WaitForAsync("denied", p => PodWaits.Waiting(p) is "ErrImagePull" or "ImagePullBackOff");
        Assert.Contains(fixture.Private, PodWaits.Message(denied), StringComparison.Ordinal);
        await EventAsync("denied", "Unable to retrieve some image pull secrets (nope); attempting to pull the image may not succeed.");
        await EventAsync("denied", "FailedToRetrieveImagePullSecret");
        await EventAsync("denied", $"Failed to pull image \"{fixture.Private}\"");
        AssertRequest(r => r.Contains("error authorizing context", StringComparison.Ordinal) && r.Contains($"http.request.host=\"localhost:{fixture.Port}\"", StringComparison.Ordinal));

        // A wrong password is tried and fails too.
        Assert.Equal(0, (await _kubectl.RunAsync("create", "secret", "docker-registry", "wrong", $"--docker-server=localhost:{fixture.Port}", $"--docker-username={PrivateRegistryFixture.User}", "--docker-password=not-it")).ExitCode);
        await ApplyAsync(Pod("wrong", fixture.Private, "  imagePullSecrets: [{name: wrong}]\n"));
        await WaitForAsync("wrong", p => PodWaits.Waiting(p) is "ErrImagePull" or "ImagePullBackOff");

        // The right secret (kubectl's dockerconfigjson) gets it; a garbage secret beside it is one clear event.
        Assert.Equal(0, (await _kubectl.RunAsync("create", "secret", "docker-registry", "regcred", $"--docker-server=localhost:{fixture.Port}", $"--docker-username={PrivateRegistryFixture.User}", $"--docker-password={PrivateRegistryFixture.Password}")).ExitCode);
        await ApplyAsync(Pod("allowed", fixture.Private, "  imagePullSecrets: [{name: wrong}, {name: regcred}]\n"));
        var allowed = await WaitForAsync("allowed", p => Phase(p) == "Running");
        Assert.Equal(fixture.Private, allowed.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("image").GetString());
        AssertRequest(r => r.Contains("msg=\"authorized request\"", StringComparison.Ordinal) && r.Contains($"http.request.host=\"localhost:{fixture.Port}\"", StringComparison.Ordinal) && r.Contains("/v2/busybox/manifests/1", StringComparison.Ordinal));

        await ApplyAsync("""
            apiVersion: v1
            kind: Secret
            metadata:
              name: garbage
            type: kubernetes.io/dockerconfigjson
            stringData:
              .dockerconfigjson: '{"auths": {"localhost": {"auth": "not base64!"}}}'
            """);
        await ApplyAsync(Pod("garbage", fixture.Private, "  imagePullSecrets: [{name: garbage}, {name: regcred}]\n"));
        var garbage = await WaitForAsync("garbage", p => PodWaits.Waiting(p) is "ErrImagePull" or "ImagePullBackOff");
        await EventAsync("garbage", "image pull secret \"garbage\" has no valid .dockerconfigjson: the auth of \"localhost\" is not base64");
        Assert.Equal("Running", Phase(await WaitForAsync("allowed", p => true)));
        Assert.DoesNotContain("\n", PodWaits.Message(garbage), StringComparison.Ordinal);

        await _kubectl.RunAsync("delete", "pod", "denied", "wrong", "allowed", "garbage", "--wait=false");
    }

    /// <summary>Asserts that the registry logged a line about a request of containerd's that <paramref name="match"/> accepts.</summary>
    private void AssertRequest(Func<string, bool> match)
    {
        var requests = File.ReadLines(fixture.RegistryLog)
            .Where(l => l.Contains("containerd/", StringComparison.Ordinal))
            .ToList();
        Assert.True(requests.Any(match), "no such request of containerd's in the registry log:\n" + string.Join('\n', requests));
    }

    private static string? Phase(JsonElement pod) => pod.GetProperty("status").TryGetProperty("phase", out var phase) ? phase.GetString() : null;

    private async Task ApplyAsync(string manifest)
    {
        var (exit, _, error) = await _kubectl.RunWithInputAsync(manifest, "apply", "-f", "-");
        Assert.True(exit == 0, error);
    }

    private Task<JsonElement> WaitForAsync(string name, Func<JsonElement, bool> condition) =>
        _kubectl.WaitForAsync("pod", name, condition, () => $"\nregistry log tail:\n{string.Join('\n', File.ReadLines(fixture.RegistryLog).TakeLast(20))}");

    private Task EventAsync(string pod, string text) => _kubectl.EventAsync(pod, text);
}
