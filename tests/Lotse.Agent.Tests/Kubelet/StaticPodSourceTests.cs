using Lotse.Agent.Kubelet.StaticPods;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Agent.Tests.Kubelet;

/// <summary>The manifest folder as the kubelet's pod source: no API server involved.</summary>
public sealed class StaticPodSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-static-").FullName;
    private readonly List<string> _woken = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private StaticPodSource Source() => new(null!, _dir, "n1", () => null, _woken.Add, NullLogger.Instance, TimeProvider.System);

    private static string Manifest(string name, string image) =>
        $"{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{name}\"}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"{image}\"}}]}}}}";

    [Fact]
    public void Refresh_WakesThePodsThatCameChangedOrWent_AndServesThemUnderTheirHash()
    {
        var source = Source();
        File.WriteAllText(Path.Combine(_dir, "web.json"), Manifest("web", "busybox"));
        File.WriteAllText(Path.Combine(_dir, "db.json"), Manifest("db", "busybox"));
        File.WriteAllText(Path.Combine(_dir, "broken.json"), "{ not a pod");
        source.Refresh();
        Assert.Equal(["default/db-n1", "default/web-n1"], _woken.Order(StringComparer.Ordinal));
        var web = source.Get("default/web-n1")!;
        Assert.Equal(web.Metadata.Annotations[StaticPodManifest.HashAnnotation], web.Metadata.Uid);

        _woken.Clear();
        source.Refresh();
        Assert.Empty(_woken); // nothing changed

        File.WriteAllText(Path.Combine(_dir, "web.json"), Manifest("web", "alpine"));
        File.Delete(Path.Combine(_dir, "db.json"));
        source.Refresh();
        Assert.Equal(["default/db-n1", "default/web-n1"], _woken.Order(StringComparer.Ordinal));
        Assert.Null(source.Get("default/db-n1"));
        Assert.NotEqual(web.Metadata.Uid, source.Get("default/web-n1")!.Metadata.Uid);
        Assert.Single(source.List());
    }
}
