using System.Net;
using System.Net.Sockets;

namespace Lotse.E2E.Tests;

/// <summary>
/// exec, attach and port-forward through the API server and the node agent into real containers,
/// with every kubectl: SPDY (1.27–1.29 exec, port-forward up to 1.30), WebSocket v5 exec (1.30+),
/// and port-forward tunnelled over WebSocket (1.31+).
/// </summary>
public sealed partial class NodeAgentTests
{
    [NodeAgentFact]
    public async Task Exec_RunsCommands_PassesStdinAndExitCodes_WithEveryKubectl()
    {
        await ApplyAsync(Pod("shell", "sleep 3600"), "pod/shell created");
        var (waited, _, waitError) = await _kubectl.RunAsync("wait", "--for=condition=Ready", "pod/shell", "--timeout=60s");
        Assert.True(waited == 0, waitError + await DescribeAsync("shell"));

        foreach (var version in Kubectl.Versions())
        {
            var kubectl = fixture.Kubectl(version);
            var echo = await kubectl.RunAsync("exec", "shell", "--", "echo", "hi", "from", version);
            Assert.True(echo.ExitCode == 0, $"kubectl {version} exec: {echo.Stderr}");
            Assert.Equal($"hi from {version}\n", echo.Stdout);

            var failing = await kubectl.RunAsync("exec", "shell", "--", "sh", "-c", "echo oops >&2; exit 3");
            Assert.Equal(3, failing.ExitCode);
            Assert.Contains("oops", failing.Stderr, StringComparison.Ordinal);
            Assert.Contains("command terminated with exit code 3", failing.Stderr, StringComparison.Ordinal);

            var piped = await kubectl.RunWithInputAsync($"data for {version}\nsecond line\n", "exec", "-i", "shell", "--", "sh", "-c", "cat; echo end");
            Assert.True(piped.ExitCode == 0, $"kubectl {version} exec -i: {piped.Stderr}");
            Assert.Equal($"data for {version}\nsecond line\nend\n", piped.Stdout);
        }

        // kubectl 1.30+ speaks WebSocket (a GET answered 101), not the SPDY fallback (a POST).
        var traced = await _kubectl.RunAsync("exec", "-v=7", "shell", "--", "true");
        Assert.Equal(0, traced.ExitCode);
        Assert.Contains("""verb="GET" url="https://""", traced.Stderr, StringComparison.Ordinal);
        Assert.Contains("The subprotocol is v5.channel.k8s.io", traced.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("verb=\"POST\"", traced.Stderr, StringComparison.Ordinal);

        var missing = await _kubectl.RunAsync("exec", "shell", "-c", "nope", "--", "true");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("container nope is not valid for pod shell", missing.Stderr, StringComparison.Ordinal);
    }

    [NodeAgentFact]
    public async Task Attach_ShowsTheRunningProcessOutput()
    {
        await ApplyAsync(Pod("ticker", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.5; done"), "pod/ticker created");
        var (waited, _, waitError) = await _kubectl.RunAsync("wait", "--for=condition=Ready", "pod/ticker", "--timeout=60s");
        Assert.True(waited == 0, waitError + await DescribeAsync("ticker"));
        foreach (var version in (string[])["1.27", "1.33"])
        {
            var (_, output, error) = await fixture.Kubectl(version).RunForAsync(TimeSpan.FromSeconds(4), "attach", "ticker");
            Assert.True(output.Contains("tick ", StringComparison.Ordinal), $"kubectl {version} attach showed nothing:\n{output}\n{error}");
        }
    }

    [NodeAgentFact]
    public async Task PortForward_ReachesThePodsPort_OverSpdyAndWebSocket()
    {
        await ApplyAsync(Pod("forwarded", Httpd, extraContainer: "    ports: [{containerPort: 8080}]"), "pod/forwarded created");
        var (waited, _, waitError) = await _kubectl.RunAsync("wait", "--for=condition=Ready", "pod/forwarded", "--timeout=60s");
        Assert.True(waited == 0, waitError + await DescribeAsync("forwarded"));
        foreach (var version in (string[])["1.27", "1.30", "1.31", "1.33"])
        {
            var port = FreePort();
            var forwarding = fixture.Kubectl(version).RunForAsync(TimeSpan.FromSeconds(6), "port-forward", "-v=6", "pod/forwarded", $"{port}:8080");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? page = null;
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (page is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    page = await http.GetStringAsync($"http://127.0.0.1:{port}/");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }

            var (_, output, error) = await forwarding;
            Assert.True(page?.Trim() == "hello-from-lotse", $"kubectl {version} port-forward did not serve the page:\n{output}\n{error}");
            Assert.Contains($"Forwarding from 127.0.0.1:{port} -> 8080", output, StringComparison.Ordinal);

            // 1.31+ tunnel SPDY through a WebSocket (GET), older ones upgrade to SPDY directly (POST).
            var method = string.CompareOrdinal(version, "1.31") >= 0 ? "GET" : "POST";
            var upgraded = $@"({method} https://\S+/pods/forwarded/portforward 101 Switching Protocols|verb=""{method}"" url=""https://\S+/pods/forwarded/portforward"" status=""101 Switching Protocols"")";
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(error, upgraded), error);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
