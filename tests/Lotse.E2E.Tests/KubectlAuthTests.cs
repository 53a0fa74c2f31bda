namespace Lotse.E2E.Tests;

/// <summary>kubectl's auth commands and service-account tokens (issue: API fidelity, reviews).</summary>
public sealed class KubectlAuthTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    /// <summary>The versions that send these requests as JSON (1.32+ send protobuf bodies).</summary>
    public static TheoryData<string> JsonVersions => ["1.27", "1.28", "1.29", "1.30", "1.31"];

    [KubectlTheory]
    [MemberData(nameof(JsonVersions))]
    public async Task CanI_WhoAmI_AndCreateToken(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var canI = await kubectl.RunAsync("auth", "can-i", "create", "pods");
        Assert.True(canI.ExitCode == 0, canI.Stderr);
        Assert.Equal("yes", canI.Stdout.Trim());

        var list = await kubectl.RunAsync("auth", "can-i", "--list", "-n", "default");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Matches(@"(?m)^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$", list.Stdout);

        var whoami = await kubectl.RunAsync("auth", "whoami");
        Assert.True(whoami.ExitCode == 0, whoami.Stderr);
        Assert.Matches(@"(?m)^Username\s+system:admin$", whoami.Stdout);
        Assert.Matches(@"(?m)^Groups\s+\[system:masters system:authenticated\]$", whoami.Stdout);

        var token = await kubectl.RunAsync("create", "token", "default", "--duration=20m");
        Assert.True(token.ExitCode == 0, token.Stderr);
        Assert.Matches(@"^[\w-]+\.[\w-]+\.[\w-]+$", token.Stdout.Trim());

        // The token is the default service account's, as a TokenReview says.
        var review = await kubectl.RunWithInputAsync(
            $$$"""{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"{{{token.Stdout.Trim()}}}"}}""",
            "create", "--raw", "/apis/authentication.k8s.io/v1/tokenreviews", "-f", "-");
        Assert.True(review.ExitCode == 0, review.Stderr);
        var status = System.Text.Json.Nodes.JsonNode.Parse(review.Stdout)!["status"]!;
        Assert.True(status["authenticated"]!.GetValue<bool>());
        Assert.Equal("system:serviceaccount:default:default", status["user"]!["username"]!.GetValue<string>());
    }

    [KubectlFact]
    public async Task CreateToken_ForAMissingAccount_IsKubesNotFound()
    {
        var result = await fixture.Kubectl("1.31").RunAsync("create", "token", "nobody");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("serviceaccounts \"nobody\" not found", result.Stderr, StringComparison.Ordinal);
    }
}
