using System.Text;
using Lotse.ApiServer.WatchCache;

namespace Lotse.ApiServer.Tests.WatchCache;

public sealed class ResourceCacheTests
{
    private static CachedObject Obj(string name, long revision) =>
        CachedObject.FromStored($"/registry/configmaps/default/{name}", Encoding.UTF8.GetBytes($$$"""{"metadata":{"name":"{{{name}}}","namespace":"default"}}"""), revision, revision);

    [Fact]
    public void Watch_OlderThanTheRing_ReturnsNullForGone()
    {
        var cache = new ResourceCache("/registry/configmaps/");
        cache.Reset([], 10);
        for (var i = 1; i <= ResourceCache.EventCapacity + 5; i++)
        {
            cache.Apply(new CacheEvent(CacheEventType.Added, Obj($"c{i}", 10 + i), null, 10 + i));
        }

        Assert.Null(cache.Watch(11, 10 + ResourceCache.EventCapacity + 5, e => e));
        using var recent = cache.Watch(20, 10 + ResourceCache.EventCapacity + 5, e => e);
        Assert.NotNull(recent);
        Assert.True(recent.Events.TryRead(out var first));
        Assert.Equal(21, first.Revision);
    }

    [Fact]
    public void Watch_FromZero_StartsWithEveryObjectThenLiveEvents()
    {
        var cache = new ResourceCache("/registry/configmaps/");
        cache.Reset([Obj("a", 3), Obj("b", 4)], 4);
        using var watcher = cache.Watch(0, 4, e => e)!;
        cache.Apply(new CacheEvent(CacheEventType.Added, Obj("c", 5), null, 5));
        var names = new List<string>();
        while (watcher.Events.TryRead(out var e))
        {
            names.Add(e.Object.Name);
        }

        Assert.Equal(["a", "b", "c"], names);
    }

    [Fact]
    public void Reset_ClosesWatchersAsGone()
    {
        var cache = new ResourceCache("/registry/configmaps/");
        cache.Reset([], 1);
        using var watcher = cache.Watch(1, 1, e => e)!;
        cache.Reset([], 50);
        Assert.True(watcher.Gone);
        Assert.True(watcher.Events.Completion.IsCompleted);
    }
}
