using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Lotse.E2E.Tests;

/// <summary>The real server on a real etcd that goes away and comes back: clear 503s, then recovery.</summary>
public sealed class DatastoreOutageTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<Process> StartEtcdAsync(string dir, int client, int peer)
    {
        var etcd = Process.Start(new ProcessStartInfo("/usr/bin/etcd",
            $"--name outage --data-dir {dir}/etcd --listen-client-urls http://127.0.0.1:{client} --advertise-client-urls http://127.0.0.1:{client} " +
            $"--listen-peer-urls http://127.0.0.1:{peer} --initial-advertise-peer-urls http://127.0.0.1:{peer} --initial-cluster outage=http://127.0.0.1:{peer} --log-level error")
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, client);
                await Task.Delay(300);
                return etcd;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("etcd did not start");
    }

    [KubectlFact]
    public async Task EtcdDown_RequestsGet503_ThenRecover()
    {
        if (!File.Exists("/usr/bin/etcd"))
        {
            Assert.Fail("etcd is not installed (scripts/deps.sh installs it)");
        }

        await using var server = new LotseServerProcess();
        var (client, peer) = (FreePort(), FreePort());
        var etcd = await StartEtcdAsync(server.DataDir, client, peer);
        try
        {
            await server.StartAsync("--datastore-endpoint", $"http://127.0.0.1:{client}");
            var kubectl = new Kubectl(Kubectl.PathOf("1.31"), server.Kubeconfig, Path.Combine(server.DataDir, "cache"));
            // A fresh etcd answers on its port a moment before it has elected itself leader.
            var before = await kubectl.RunAsync("create", "configmap", "before", "--from-literal=a=b");
            for (var attempt = 0; attempt < 30 && before.ExitCode != 0; attempt++)
            {
                await Task.Delay(500);
                before = await kubectl.RunAsync("create", "configmap", "before", "--from-literal=a=b");
            }

            Assert.True(before.ExitCode == 0, before.Stderr);

            etcd.Kill();
            await etcd.WaitForExitAsync();
            var failed = await kubectl.RunAsync("create", "configmap", "during", "--from-literal=a=b");
            Assert.NotEqual(0, failed.ExitCode);
            // kubectl's generators print the Status message: the 503 says what is down.
            Assert.Contains("the datastore is unavailable: etcd at http://127.0.0.1:", failed.Stderr, StringComparison.Ordinal);
            var get = await kubectl.RunAsync("get", "configmap", "before");
            Assert.Contains("Error from server (ServiceUnavailable)", get.Stderr, StringComparison.Ordinal);

            etcd.Dispose();
            etcd = await StartEtcdAsync(server.DataDir, client, peer);
            // Recovery when the cause goes: within a few seconds of etcd's return, writes succeed again.
            var after = await kubectl.RunAsync("create", "configmap", "after", "--from-literal=a=b");
            for (var attempt = 0; attempt < 30 && after.ExitCode != 0; attempt++)
            {
                await Task.Delay(500);
                after = await kubectl.RunAsync("create", "configmap", "after", "--from-literal=a=b");
            }

            Assert.True(after.ExitCode == 0, after.Stderr);
            var names = await kubectl.RunAsync("get", "configmaps", "-o", "name");
            Assert.Contains("configmap/before", names.Stdout, StringComparison.Ordinal);
            Assert.Contains("configmap/after", names.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("configmap/during", names.Stdout, StringComparison.Ordinal);
            _ = JsonNode.Parse("{}");
        }
        finally
        {
            if (!etcd.HasExited)
            {
                etcd.Kill();
                await etcd.WaitForExitAsync();
            }

            etcd.Dispose();
        }
    }
}
