using System.Diagnostics;
using System.Text.Json;

namespace Lotse.E2E.Tests;

/// <summary>Lifecycle hooks, termination messages and the active deadline, on real containers.</summary>
public sealed partial class NodeAgentTests
{
    private static string Terminated(JsonElement pod, string field) =>
        pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("state").TryGetProperty("terminated", out var t) && t.TryGetProperty(field, out var v) ? v.ToString() : string.Empty;

    private static bool Ended(JsonElement pod) => pod.GetProperty("status").GetProperty("phase").GetString() is "Succeeded" or "Failed";

    [NodeAgentFact]
    public async Task TerminationMessages_FromTheFile_OrTheLogOfAFailedContainer_AndPostStartRunsFirst()
    {
        await ApplyAsync(Pod("message", "echo 'all done' > /dev/termination-log", restartPolicy: "Never"), "pod/message created");
        await ApplyAsync(Pod("fallback", "echo first; echo last words; exit 2", restartPolicy: "Never", extraContainer: "    terminationMessagePolicy: FallbackToLogsOnError"), "pod/fallback created");
        const string PostStart = """
                lifecycle:
                  postStart: {exec: {command: ["sh", "-c", "echo ran > /post"]}}
            """;
        await ApplyAsync(Pod("poststart", "i=0; while [ ! -f /post ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; cat /post > /dev/termination-log", restartPolicy: "Never", extraContainer: PostStart), "pod/poststart created");

        var message = await WaitForAsync("pod", "message", Ended);
        Assert.Equal(("Succeeded", "all done\n"), (message.GetProperty("status").GetProperty("phase").GetString(), Terminated(message, "message")));
        var fallback = await WaitForAsync("pod", "fallback", Ended);
        Assert.Equal(("2", "first\nlast words\n"), (Terminated(fallback, "exitCode"), Terminated(fallback, "message")));
        var poststart = await WaitForAsync("pod", "poststart", Ended);
        Assert.True(Terminated(poststart, "message") == "ran\n", poststart.ToString() + await DescribeAsync("poststart") + (await _kubectl.RunAsync("logs", "poststart")).Stdout);
        Assert.Contains("all done", (await _kubectl.RunAsync("describe", "pod", "message")).Stdout, StringComparison.Ordinal);
    }

    [NodeAgentFact]
    public async Task FailingPostStart_KillsTheContainer_PreStopRunsBeforeTheStop()
    {
        const string BadHook = """
                lifecycle:
                  postStart: {exec: {command: ["sh", "-c", "exit 1"]}}
            """;
        await ApplyAsync(Pod("badpost", "sleep 3600", restartPolicy: "Never", extraContainer: BadHook), "pod/badpost created");
        var killed = await WaitForAsync("pod", "badpost", Ended);
        Assert.Equal("Failed", killed.GetProperty("status").GetProperty("phase").GetString());
        var events = (await _kubectl.RunAsync("get", "events", "--field-selector", "involvedObject.name=badpost")).Stdout;
        Assert.Contains("FailedPostStartHook", events, StringComparison.Ordinal);
        Assert.Contains("PostStartHook failed", events, StringComparison.Ordinal);

        // preStop writes to a host directory, then sleeps: the delete waits for it, the stop follows.
        var dir = Path.Combine(Path.GetTempPath(), "lotse-e2e-prestop-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var preStop = """
                    lifecycle:
                      preStop: {exec: {command: ["sh", "-c", "echo bye > /out/prestop; sleep 2"]}}
                    volumeMounts: [{name: out, mountPath: /out}]
                """;
            var volumes = $$"""
                  terminationGracePeriodSeconds: 20
                  volumes: [{name: out, hostPath: {path: {{dir}} } }]
                """;
            await ApplyAsync(Pod("prestop", "trap 'exit 0' TERM; while true; do sleep 0.2; done", extraContainer: preStop).Replace("  terminationGracePeriodSeconds: 2\n", volumes, StringComparison.Ordinal), "pod/prestop created");
            var (waited, _, waitError) = await _kubectl.RunAsync("wait", "--for=condition=Ready", "pod/prestop", "--timeout=60s");
            Assert.True(waited == 0, waitError + await DescribeAsync("prestop"));
            var clock = Stopwatch.StartNew();
            var (deleted, _, deleteError) = await _kubectl.RunAsync("delete", "pod", "prestop");
            Assert.True(deleted == 0, deleteError);
            Assert.Equal("bye\n", await File.ReadAllTextAsync(Path.Combine(dir, "prestop")));
            Assert.InRange(clock.Elapsed.TotalSeconds, 2, 15);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [NodeAgentFact]
    public async Task ActiveDeadline_FailsThePodAndStopsItsContainers()
    {
        await ApplyAsync(Pod("deadline", "trap 'exit 0' TERM; while true; do sleep 0.2; done", extraSpec: "  activeDeadlineSeconds: 3"), "pod/deadline created");
        var failed = await WaitForAsync("pod", "deadline", Ended);
        var status = failed.GetProperty("status");
        Assert.Equal(("Failed", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"), (status.GetProperty("phase").GetString(), status.GetProperty("reason").GetString(), status.GetProperty("message").GetString()));
        Assert.NotEqual(string.Empty, Terminated(failed, "exitCode"));
    }
}
