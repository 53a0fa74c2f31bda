using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using static Lotse.Controllers.Tests.ControllersFixture;

namespace Lotse.Controllers.Tests;

/// <summary>/metrics on the API server shows the controllers' reconciles and queues under controller-runtime's and client-go's names.</summary>
[Collection(ControllersGroup.Name)]
public sealed class MetricsTests(ControllersFixture fixture)
{
    private async Task<double> ValueAsync(string series)
    {
        using var http = fixture.Server.Client();
        var response = await http.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public async Task Reconciles_AndQueueActivity_AreCounted()
    {
        var before = await ValueAsync("controller_runtime_reconcile_total{controller=\"replicaset\",result=\"success\"}");
        var adds = await ValueAsync("workqueue_adds_total{name=\"replicaset\"}");
        await fixture.Client.CreateNamespaceAsync("metrics");
        await fixture.Client.AppsV1.CreateNamespacedReplicaSetAsync(Helpers.ReplicaSet("counted", 2), "metrics");
        await EventuallyAsync(async () => (await fixture.Client.AppsV1.ReadNamespacedReplicaSetAsync("counted", "metrics")).Status?.Replicas == 2, "the set has its pods");

        Assert.True(await ValueAsync("controller_runtime_reconcile_total{controller=\"replicaset\",result=\"success\"}") > before);
        Assert.True(await ValueAsync("workqueue_adds_total{name=\"replicaset\"}") > adds);
        Assert.True(await ValueAsync("controller_runtime_reconcile_time_seconds_count{controller=\"replicaset\"}") > 0);
        Assert.True(await ValueAsync("workqueue_work_duration_seconds_count{name=\"replicaset\"}") > 0);
    }
}
