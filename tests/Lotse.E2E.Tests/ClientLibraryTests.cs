using k8s;
using k8s.Models;

namespace Lotse.E2E.Tests;

/// <summary>The official C# client (KubernetesClient) against the real server, including a server restart under a watch.</summary>
public sealed class ClientLibraryTests
{
    private static Kubernetes Client(LotseServerProcess server) =>
        new(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Kubeconfig));

    [Fact]
    public async Task ConfigMap_CreateReadReplaceDelete()
    {
        await using var server = new LotseServerProcess();
        await server.StartAsync();
        using var client = Client(server);
        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cfg" }, Data = new Dictionary<string, string> { ["a"] = "1" } }, "default");
        Assert.NotNull(created.Metadata.Uid);
        var read = await client.CoreV1.ReadNamespacedConfigMapAsync("cfg", "default");
        read.Data["a"] = "2";
        var replaced = await client.CoreV1.ReplaceNamespacedConfigMapAsync(read, "cfg", "default");
        Assert.Equal("2", replaced.Data["a"]);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);
        var stale = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => client.CoreV1.ReplaceNamespacedConfigMapAsync(read, "cfg", "default"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, stale.Response.StatusCode);
        await client.CoreV1.DeleteNamespacedConfigMapAsync("cfg", "default");
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        Assert.DoesNotContain(list.Items, c => c.Metadata.Name == "cfg");
    }

    [Fact]
    public async Task Watch_ServerRestarts_ResumesFromTheLastResourceVersionWithoutGapOrRepeat()
    {
        await using var server = new LotseServerProcess();
        await server.StartAsync();
        var seen = new List<string>();
        string? lastVersion;
        using (var client = Client(server))
        {
            var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");
            lastVersion = list.Metadata.ResourceVersion;
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "before" } }, "default");
            lastVersion = await CollectAsync(client, lastVersion, seen, 1);
        }

        await server.StopAsync();
        await server.StartAsync();
        using (var client = Client(server))
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" } }, "default");
            await CollectAsync(client, lastVersion, seen, 2);
            if (seen.Contains("Error"))
            {
                // Kubernetes' contract: when anything was written after the client's last version and
                // before the restart, the restarted cache cannot resume from it and says 410 Expired
                // (as kube-apiserver does); the client relists, and nothing is lost.
                var relisted = await client.CoreV1.ListNamespacedConfigMapAsync("default");
                Assert.Contains(relisted.Items, c => c.Metadata.Name == "after");
                Assert.Equal(["Added before", "Error"], seen);
                return;
            }
        }

        Assert.Equal(["Added before", "Added after"], seen);
    }

    /// <summary>Watches from a resourceVersion until <paramref name="total"/> events were seen; returns the last version.</summary>
    private static async Task<string> CollectAsync(Kubernetes client, string resourceVersion, List<string> seen, int total)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var last = resourceVersion;

        // A watch stream may end at any time; like an informer, watch again from the last version seen.
        // The official client hands an ERROR event (a Status) to onError instead of yielding it.
        while (seen.Count < total && !cts.IsCancellationRequested)
        {
            Exception? failed = null;
            try
            {
                await foreach (var (type, item) in client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: last, onError: e => failed ??= e, cancellationToken: cts.Token))
                {

                    last = item.Metadata.ResourceVersion;
                    if (item.Metadata.Name is not ("before" or "after"))
                    {
                        continue; // the cluster's own (kube-root-ca.crt)
                    }

                    seen.Add($"{type} {item.Metadata.Name}");
                    if (seen.Count >= total)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
            }

            if (failed is k8s.Autorest.HttpOperationException or KubernetesException)
            {
                Assert.Contains("too old resource version", failed.Message, StringComparison.Ordinal);
                seen.Add("Error");
                return last;
            }
        }

        return last;
    }
}
