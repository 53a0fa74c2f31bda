using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Client.Tests.Informers;

public sealed class InformerTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Fact]
    public async Task RunAsync_ListsThenFollowsChanges_WithNamespaceIndex()
    {
        using var client = server.Kubernetes();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "informer-a" } });
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "before" } }, "informer-a");

        var informer = new Informer<V1ConfigMap>(ListWatches.ConfigMaps(client), NullLogger.Instance);
        var events = new ConcurrentQueue<string>();
        informer.AddHandler(new InformerHandler<V1ConfigMap>(
            onAdd: cm => events.Enqueue($"add {cm.Metadata.Name}"),
            onUpdate: (_, cm) => events.Enqueue($"update {cm.Metadata.Name} {cm.Data?["k"]}"),
            onDelete: cm => events.Enqueue($"delete {cm.Metadata.Name}")));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = informer.RunAsync(cts.Token);
        await informer.Synced.WaitAsync(cts.Token);
        Assert.NotNull(informer.Get("informer-a", "before"));
        Assert.Contains("add before", events);

        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" } }, "informer-a");
        await client.CoreV1.ReplaceNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" }, Data = new Dictionary<string, string> { ["k"] = "v2" } }, "after", "informer-a");
        await client.CoreV1.DeleteNamespacedConfigMapAsync("before", "informer-a");
        await WaitUntilAsync(() => events.Contains("delete before") && events.Contains("update after v2"), cts.Token);

        Assert.Null(informer.Get("informer-a", "before"));
        Assert.Equal("v2", informer.Get("informer-a/after")!.Data["k"]);
        Assert.Equal(["after"], informer.ByNamespace("informer-a").Select(c => c.Metadata.Name));
        await cts.CancelAsync();
        await run;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    [Fact]
    public async Task AWatchThatEndsWithAnError_ListsAgain()
    {
        // The official client hands ERROR events (410 Expired) to onError and then the stream ends.
        var lists = 0;
        var source = new ListWatch<V1ConfigMap>(
            "ConfigMap",
            (_, _) =>
            {
                Interlocked.Increment(ref lists);
                return Task.FromResult(new ListPage<V1ConfigMap>([new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"v{lists}", NamespaceProperty = "x", ResourceVersion = "5" } }], "5", null));
            },
            (_, onError, ct) => ExpiredAsync(onError, ct));
        var informer = new Informer<V1ConfigMap>(source, NullLogger.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = informer.RunAsync(cts.Token);
        while (Volatile.Read(ref lists) < 3)
        {
            await Task.Delay(10, cts.Token);
        }

        await cts.CancelAsync();
        await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        Assert.Null(informer.Get("x", "v1")); // each list replaced the cache
    }

    private static async IAsyncEnumerable<(WatchEventType, V1ConfigMap)> ExpiredAsync(Action<Exception> onError, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        onError(new KubernetesException(new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version: 5 (9)" }));
        yield break;
    }
}
