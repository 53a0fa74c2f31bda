using System.Text;

namespace Lotse.Storage.Tests.Contract;

/// <summary>
/// The contract every <see cref="IStore"/> implementation passes (etcd v3 semantics). Tests use a
/// unique key prefix and revisions relative to what they observe, so an implementation may share one
/// server between tests.
/// </summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    protected IStore Store { get; private set; } = null!;

    protected string P { get; } = $"/registry/test-{Guid.NewGuid():N}/";

    protected abstract Task<IStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    protected static string S(byte[] b) => Encoding.UTF8.GetString(b);

    [Fact]
    public async Task Create_NewKey_IsReadableWithEqualRevisions()
    {
        var before = await Store.GetCurrentRevisionAsync();
        var result = await Store.CreateAsync(P + "a", V("1"));
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.True(result.Revision > before);
        var kv = await Store.GetAsync(P + "a");
        Assert.NotNull(kv);
        Assert.Equal("1", S(kv.Value));
        Assert.Equal(result.Revision, kv.CreateRevision);
        Assert.Equal(result.Revision, kv.ModRevision);
        Assert.Equal(result.Revision, await Store.GetCurrentRevisionAsync());
    }

    [Fact]
    public async Task Create_ExistingKey_AlreadyExistsWithCurrentAndNoRevisionUsed()
    {
        var first = await Store.CreateAsync(P + "a", V("1"));
        var second = await Store.CreateAsync(P + "a", V("2"));
        Assert.Equal(WriteStatus.AlreadyExists, second.Status);
        Assert.Equal("1", S(second.Current!.Value));
        Assert.Equal(first.Revision, second.Current.ModRevision);
        Assert.Equal(first.Revision, await Store.GetCurrentRevisionAsync());
    }

    [Fact]
    public async Task Create_AfterDelete_GetsANewCreateRevision()
    {
        var first = await Store.CreateAsync(P + "a", V("1"));
        await Store.DeleteAsync(P + "a", first.Revision);
        var again = await Store.CreateAsync(P + "a", V("2"));
        Assert.Equal(WriteStatus.Ok, again.Status);
        var kv = await Store.GetAsync(P + "a");
        Assert.Equal(again.Revision, kv!.CreateRevision);
        Assert.True(kv.CreateRevision > first.Revision);
    }

    [Fact]
    public async Task Update_MatchingRevision_AdvancesModRevisionKeepsCreateRevision()
    {
        var created = await Store.CreateAsync(P + "a", V("1"));
        var updated = await Store.UpdateAsync(P + "a", V("2"), created.Revision);
        Assert.Equal(WriteStatus.Ok, updated.Status);
        Assert.True(updated.Revision > created.Revision);
        var kv = await Store.GetAsync(P + "a");
        Assert.Equal("2", S(kv!.Value));
        Assert.Equal(created.Revision, kv.CreateRevision);
        Assert.Equal(updated.Revision, kv.ModRevision);
    }

    [Fact]
    public async Task Update_StaleRevision_ConflictWithCurrentAndNoRevisionUsed()
    {
        var created = await Store.CreateAsync(P + "a", V("1"));
        var updated = await Store.UpdateAsync(P + "a", V("2"), created.Revision);
        var stale = await Store.UpdateAsync(P + "a", V("3"), created.Revision);
        Assert.Equal(WriteStatus.Conflict, stale.Status);
        Assert.Equal("2", S(stale.Current!.Value));
        Assert.Equal(updated.Revision, stale.Current.ModRevision);
        Assert.Equal(updated.Revision, await Store.GetCurrentRevisionAsync());
    }

    [Fact]
    public async Task Update_MissingKey_NotFound()
    {
        Assert.Equal(WriteStatus.NotFound, (await Store.UpdateAsync(P + "none", V("x"), 5)).Status);
        Assert.Equal(WriteStatus.NotFound, (await Store.UpdateAsync(P + "none", V("x"), 0)).Status);
    }

    [Fact]
    public async Task Update_ExpectedZero_IsUnconditional()
    {
        await Store.CreateAsync(P + "a", V("1"));
        var result = await Store.UpdateAsync(P + "a", V("2"), 0);
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.Equal("2", S((await Store.GetAsync(P + "a"))!.Value));
    }

    [Fact]
    public async Task Delete_MatchingRevision_ReturnsDeletedValueAndKeyIsGone()
    {
        var created = await Store.CreateAsync(P + "a", V("1"));
        var deleted = await Store.DeleteAsync(P + "a", created.Revision);
        Assert.Equal(WriteStatus.Ok, deleted.Status);
        Assert.Equal("1", S(deleted.Current!.Value));
        Assert.True(deleted.Revision > created.Revision);
        Assert.Null(await Store.GetAsync(P + "a"));
    }

    [Fact]
    public async Task Delete_StaleMissingAndUnconditional()
    {
        var created = await Store.CreateAsync(P + "a", V("1"));
        await Store.UpdateAsync(P + "a", V("2"), created.Revision);
        var stale = await Store.DeleteAsync(P + "a", created.Revision);
        Assert.Equal(WriteStatus.Conflict, stale.Status);
        Assert.Equal("2", S(stale.Current!.Value));
        Assert.Equal(WriteStatus.NotFound, (await Store.DeleteAsync(P + "none", 0)).Status);
        Assert.Equal(WriteStatus.Ok, (await Store.DeleteAsync(P + "a", 0)).Status);
        Assert.Null(await Store.GetAsync(P + "a"));
    }

    [Fact]
    public async Task Revisions_OnePerWriteAcrossKeys_StrictlyIncreasing()
    {
        var revisions = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            revisions.Add((await Store.CreateAsync($"{P}k{i}", V("x"))).Revision);
        }

        revisions.Add((await Store.UpdateAsync(P + "k0", V("y"), revisions[0])).Revision);
        revisions.Add((await Store.DeleteAsync(P + "k1", revisions[1])).Revision);
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions.Count, revisions.Distinct().Count());
        Assert.Equal(revisions[^1], await Store.GetCurrentRevisionAsync());
    }

    [Fact]
    public async Task Range_Prefix_IsIsolatedAndOrdered()
    {
        foreach (var key in (string[])["b/2", "b/1", "bc", "b", "a/1", "b/10"])
        {
            await Store.CreateAsync(P + key, V(key));
        }

        var result = await Store.RangeAsync(new RangeRequest(P + "b/"));
        Assert.Equal([P + "b/1", P + "b/10", P + "b/2"], result.Items.Select(k => k.Key));
        Assert.Equal(3, result.Count);
        Assert.False(result.More);
        var exact = await Store.RangeAsync(new RangeRequest(P + "bc"));
        Assert.Equal([P + "bc"], exact.Items.Select(k => k.Key));
    }

    [Fact]
    public async Task Range_LimitAndContinue_PageThroughEveryKeyOnce()
    {
        for (var i = 0; i < 10; i++)
        {
            await Store.CreateAsync($"{P}{i:D2}", V(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var first = await Store.RangeAsync(new RangeRequest(P, 4));
        Assert.Equal(4, first.Items.Count);
        Assert.True(first.More);
        Assert.Equal(10, first.Count);
        var keys = first.Items.Select(k => k.Key).ToList();
        var page = first;
        while (page.More)
        {
            page = await Store.RangeAsync(new RangeRequest(P, 4, page.Items[^1].Key, first.Revision));
            keys.AddRange(page.Items.Select(k => k.Key));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{P}{i:D2}"), keys);
        var last = await Store.RangeAsync(new RangeRequest(P, 4, $"{P}07", first.Revision));
        Assert.Equal(2, last.Count);
        Assert.False(last.More);
    }

    [Fact]
    public async Task Range_AtRevision_ReadsThePast()
    {
        var a = await Store.CreateAsync(P + "a", V("1"));
        var b = await Store.CreateAsync(P + "b", V("1"));
        await Store.UpdateAsync(P + "a", V("2"), a.Revision);
        await Store.DeleteAsync(P + "b", b.Revision);
        await Store.CreateAsync(P + "c", V("1"));

        var past = await Store.RangeAsync(new RangeRequest(P, AtRevision: b.Revision));
        Assert.Equal(b.Revision, past.Revision);
        Assert.Equal([(P + "a", "1"), (P + "b", "1")], past.Items.Select(k => (k.Key, S(k.Value))));
        var now = await Store.RangeAsync(new RangeRequest(P));
        Assert.Equal([(P + "a", "2"), (P + "c", "1")], now.Items.Select(k => (k.Key, S(k.Value))));
    }

    [Fact]
    public async Task Range_CountOnly_ReturnsCountWithoutItems()
    {
        for (var i = 0; i < 3; i++)
        {
            await Store.CreateAsync($"{P}{i}", V("x"));
        }

        var result = await Store.RangeAsync(new RangeRequest(P, CountOnly: true));
        Assert.Empty(result.Items);
        Assert.Equal(3, result.Count);
    }

    [Fact]
    public async Task Range_FutureRevision_Throws()
    {
        var current = (await Store.CreateAsync(P + "a", V("1"))).Revision;
        await Assert.ThrowsAsync<FutureRevisionException>(() => Store.RangeAsync(new RangeRequest(P, AtRevision: current + 1000)));
    }

    [Fact]
    public async Task Compact_PastReadsFailLiveKeysStay()
    {
        var a = await Store.CreateAsync(P + "a", V("1"));
        var u = await Store.UpdateAsync(P + "a", V("2"), a.Revision);
        var b = await Store.CreateAsync(P + "b", V("1"));
        await Store.DeleteAsync(P + "b", b.Revision);
        var keep = await Store.CreateAsync(P + "c", V("1"));
        await Store.CompactAsync(keep.Revision);

        Assert.True(await Store.GetCompactRevisionAsync() >= keep.Revision);
        await Assert.ThrowsAsync<CompactedException>(() => Store.RangeAsync(new RangeRequest(P, AtRevision: u.Revision)));
        var at = await Store.RangeAsync(new RangeRequest(P, AtRevision: keep.Revision));
        Assert.Equal([(P + "a", "2"), (P + "c", "1")], at.Items.Select(k => (k.Key, S(k.Value))));
        Assert.Equal("2", S((await Store.GetAsync(P + "a"))!.Value));
        Assert.Null(await Store.GetAsync(P + "b"));

        // Compacting at or below the last compaction changes nothing.
        await Store.CompactAsync(a.Revision);
        Assert.True(await Store.GetCompactRevisionAsync() >= keep.Revision);
        var next = await Store.UpdateAsync(P + "a", V("3"), u.Revision);
        Assert.Equal(WriteStatus.Ok, next.Status);
    }

    [Fact]
    public async Task Ttl_KeyIsReadableRightAfterTheWrite()
    {
        var result = await Store.CreateAsync(P + "lease", V("x"), ttlSeconds: 60);
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.Equal("x", S((await Store.GetAsync(P + "lease"))!.Value));
    }
}
