namespace Lotse.Storage.Tests.Contract;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task Watch_FromRevision_DeliversLaterEventsInOrderWithPreviousValues()
    {
        var start = await Store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(Store, P, start);
        var a = await Store.CreateAsync(P + "a", V("1"));
        var u = await Store.UpdateAsync(P + "a", V("2"), a.Revision);
        var d = await Store.DeleteAsync(P + "a", u.Revision);

        var events = await watch.WaitForAsync(3);
        Assert.Equal(3, events.Count);
        Assert.Equal(WatchEventType.Put, events[0].Type);
        Assert.True(events[0].IsCreate);
        Assert.Null(events[0].PrevKv);
        Assert.Equal(a.Revision, events[0].Revision);
        Assert.Equal(WatchEventType.Put, events[1].Type);
        Assert.False(events[1].IsCreate);
        Assert.Equal("1", S(events[1].PrevKv!.Value));
        Assert.Equal("2", S(events[1].Kv.Value));
        Assert.Equal(WatchEventType.Delete, events[2].Type);
        Assert.Equal(d.Revision, events[2].Revision);
        Assert.Equal(P + "a", events[2].Kv.Key);
        Assert.Equal("2", S(events[2].PrevKv!.Value));
    }

    [Fact]
    public async Task Watch_Prefix_FiltersOtherKeys()
    {
        var start = await Store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(Store, P + "in/", start);
        await Store.CreateAsync(P + "out", V("x"));
        await Store.CreateAsync(P + "in/1", V("x"));
        await Store.CreateAsync(P + "inx", V("x"));
        await Store.CreateAsync(P + "in/2", V("x"));
        var events = await watch.WaitForAsync(2);
        Assert.Equal([P + "in/1", P + "in/2"], events.Select(e => e.Kv.Key));
    }

    [Fact]
    public async Task Watch_FromOldRevision_ReplaysHistoryThenContinuesLive()
    {
        var start = await Store.GetCurrentRevisionAsync();
        for (var i = 0; i < 5; i++)
        {
            await Store.CreateAsync($"{P}{i}", V("x"));
        }

        await using var watch = new WatchCollector(Store, P, start);
        Assert.Equal(5, (await watch.WaitForAsync(5)).Count);
        await Store.CreateAsync(P + "live", V("x"));
        var events = await watch.WaitForAsync(6);
        Assert.Equal(P + "live", events[^1].Kv.Key);
        Assert.Equal(6, events.Count);
    }

    [Fact]
    public async Task Watch_SeveralWatchers_SeeIdenticalSequences()
    {
        var start = await Store.GetCurrentRevisionAsync();
        await using var one = new WatchCollector(Store, P, start);
        await using var two = new WatchCollector(Store, P, start);
        var created = await Store.CreateAsync(P + "a", V("1"));
        await Store.UpdateAsync(P + "a", V("2"), created.Revision);
        await Store.CreateAsync(P + "b", V("1"));
        var a = await one.WaitForAsync(3);
        var b = await two.WaitForAsync(3);
        Assert.Equal(a.Select(e => (e.Type, e.Revision, e.Kv.Key)), b.Select(e => (e.Type, e.Revision, e.Kv.Key)));
    }

    [Fact]
    public async Task Watch_BelowCompactRevision_ThrowsCompacted()
    {
        var a = await Store.CreateAsync(P + "a", V("1"));
        var b = await Store.UpdateAsync(P + "a", V("2"), a.Revision);
        await Store.UpdateAsync(P + "a", V("3"), b.Revision);
        await Store.CompactAsync(b.Revision);
        await Assert.ThrowsAsync<CompactedException>(async () =>
        {
            await foreach (var e in Store.WatchAsync(P, a.Revision - 1))
            {
                if (e.Type != WatchEventType.Progress)
                {
                    break;
                }
            }
        });
    }

    [Fact]
    public async Task Watch_Cancelled_EndsWithOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var start = await Store.GetCurrentRevisionAsync();
        var task = Task.Run(async () =>
        {
            await foreach (var e in Store.WatchAsync(P, start, cts.Token))
            {
                _ = e;
            }
        });
        await Task.Delay(200);
        await cts.CancelAsync();
        var ex = await Record.ExceptionAsync(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(ex is null or OperationCanceledException, $"unexpected {ex}");
    }

    [Fact]
    public async Task Concurrency_ReadModifyWriteIncrements_LoseNoUpdate()
    {
        const int Writers = 16;
        const int PerWriter = 5;
        var key = P + "counter";
        var created = await Store.CreateAsync(key, V("0"));
        await using var watch = new WatchCollector(Store, key, created.Revision);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                while (true)
                {
                    var current = (await Store.GetAsync(key))!;
                    var next = int.Parse(S(current.Value), System.Globalization.CultureInfo.InvariantCulture) + 1;
                    var result = await Store.UpdateAsync(key, V(next.ToString(System.Globalization.CultureInfo.InvariantCulture)), current.ModRevision);
                    if (result.Succeeded)
                    {
                        break;
                    }

                    Assert.Equal(WriteStatus.Conflict, result.Status);
                }
            }
        })));

        Assert.Equal((Writers * PerWriter).ToString(System.Globalization.CultureInfo.InvariantCulture), S((await Store.GetAsync(key))!.Value));
        var events = await watch.WaitForAsync(Writers * PerWriter);
        Assert.Equal(Enumerable.Range(1, Writers * PerWriter).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), events.Select(e => S(e.Kv.Value)));
    }

    [Fact]
    public async Task Concurrency_DisjointCreates_GetDistinctRevisionsAllWatched()
    {
        var start = await Store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(Store, P, start);
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Store.CreateAsync($"{P}{i:D3}", V("x"))));
        Assert.All(results, r => Assert.Equal(WriteStatus.Ok, r.Status));
        Assert.Equal(64, results.Select(r => r.Revision).Distinct().Count());
        var events = await watch.WaitForAsync(64);
        Assert.Equal(results.Select(r => r.Revision).Order(), events.Select(e => e.Revision));
    }
}
