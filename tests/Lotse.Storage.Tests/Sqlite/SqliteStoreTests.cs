using System.Security.Cryptography;
using System.Text;
using Lotse.Storage.Sqlite;
using Lotse.Storage.Tests.Contract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Storage.Tests.Sqlite;

/// <summary>What only the embedded backend has: the file, its log, compaction and its refusals.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-sqlite-").FullName;

    private string DbPath => Path.Combine(_dir, "db", "state.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<IStore> OpenAsync(SqliteStoreTuning? tuning = null) =>
        SqliteStore.OpenAsync(new StoreOptions { SqlitePath = DbPath, CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance, tuning ?? new SqliteStoreTuning());

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Reopen_KeepsDataAndRevision()
    {
        long revision;
        await using (var store = await OpenAsync())
        {
            await store.CreateAsync("/registry/a", [1]);
            revision = (await store.CreateAsync("/registry/b", [2])).Revision;
        }

        await using var reopened = await OpenAsync();
        Assert.Equal(revision, await reopened.GetCurrentRevisionAsync());
        Assert.Equal([2], (await reopened.GetAsync("/registry/b"))!.Value);
        Assert.Equal(revision + 1, (await reopened.CreateAsync("/registry/c", [3])).Revision);
    }

    [Fact]
    public async Task Compact_NewestRowIsATombstone_RevisionNeverGoesBack()
    {
        long deleted;
        await using (var store = await OpenAsync())
        {
            var created = await store.CreateAsync("/registry/a", [1]);
            deleted = (await store.DeleteAsync("/registry/a", created.Revision)).Revision;
            await store.CompactAsync(deleted);
            Assert.Equal(0, Scalar("SELECT COUNT(*) FROM kv"));
        }

        await using var reopened = await OpenAsync();
        Assert.Equal(deleted, await reopened.GetCurrentRevisionAsync());
        Assert.Equal(deleted + 1, (await reopened.CreateAsync("/registry/a", [2])).Revision);
        Assert.Equal(deleted, await reopened.GetCompactRevisionAsync());
    }

    [Fact]
    public async Task Compact_InBatches_RemovesHistoryKeepsLiveKeys()
    {
        await using var store = await OpenAsync(new SqliteStoreTuning { CompactionBatchRevisions = 7 });
        var revisions = new Dictionary<string, long>();
        for (var i = 0; i < 20; i++)
        {
            revisions[$"/registry/k{i}"] = (await store.CreateAsync($"/registry/k{i}", [0])).Revision;
        }

        for (var round = 1; round <= 5; round++)
        {
            foreach (var key in revisions.Keys.ToList())
            {
                revisions[key] = (await store.UpdateAsync(key, [(byte)round], revisions[key])).Revision;
            }
        }

        await store.DeleteAsync("/registry/k0", revisions["/registry/k0"]);
        Assert.Equal(20 * 6 + 1, Scalar("SELECT COUNT(*) FROM kv"));
        await store.CompactAsync(await store.GetCurrentRevisionAsync());
        Assert.Equal(19, Scalar("SELECT COUNT(*) FROM kv"));
        var live = await store.RangeAsync(new RangeRequest("/registry/"));
        Assert.Equal(19, live.Items.Count);
        Assert.All(live.Items, kv => Assert.Equal([5], kv.Value));
    }

    [Fact]
    public async Task Churn_ThenCompaction_FileStaysUnderTwiceTheLiveData()
    {
        const int Keys = 200;
        var value = new byte[4096];
        Random.Shared.NextBytes(value);
        await using (var store = await OpenAsync())
        {
            var revisions = new long[Keys];
            for (var i = 0; i < Keys; i++)
            {
                revisions[i] = (await store.CreateAsync($"/registry/churn/{i:D4}", value)).Revision;
            }

            for (var round = 0; round < 20; round++)
            {
                var results = await Task.WhenAll(Enumerable.Range(0, Keys).Select(i => store.UpdateAsync($"/registry/churn/{i:D4}", value, revisions[i])));
                for (var i = 0; i < Keys; i++)
                {
                    revisions[i] = results[i].Revision;
                }
            }

            await store.CompactAsync(await store.GetCurrentRevisionAsync());
        }

        var live = (long)Keys * value.Length;
        var size = new FileInfo(DbPath).Length + (File.Exists(DbPath + "-wal") ? new FileInfo(DbPath + "-wal").Length : 0);
        Assert.True(size <= 2 * live, $"database is {size} bytes for {live} bytes of live data");
    }

    [Fact]
    public async Task Ttl_ExpiredKey_IsDeletedAndWatched()
    {
        await using var store = await OpenAsync(new SqliteStoreTuning { MaintenanceInterval = TimeSpan.FromMilliseconds(200) });
        var start = await store.GetCurrentRevisionAsync();
        await using var watch = new WatchCollector(store, "/registry/ttl/", start);
        await store.CreateAsync("/registry/ttl/short", [1], ttlSeconds: 1);
        await store.CreateAsync("/registry/ttl/long", [1], ttlSeconds: 3600);
        var events = await watch.WaitForAsync(3, TimeSpan.FromSeconds(10));
        Assert.Equal(WatchEventType.Delete, events[2].Type);
        Assert.Equal("/registry/ttl/short", events[2].Kv.Key);
        Assert.NotNull(await store.GetAsync("/registry/ttl/long"));
    }

    [Fact]
    public async Task Watch_FallenBehindTheRing_CatchesUpFromTheLogWithoutGap()
    {
        await using var store = await OpenAsync(new SqliteStoreTuning { RingCapacity = 16 });
        var start = await store.GetCurrentRevisionAsync();
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => store.CreateAsync($"/registry/lag/{i:D4}", [1])));
        await using var watch = new WatchCollector(store, "/registry/lag/", start);
        var events = await watch.WaitForAsync(500);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => start + i), events.Select(e => e.Revision));
    }

    [Fact]
    public async Task Open_NotADatabase_RefusesAndLeavesTheFileAlone()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DbPath)!);
        var garbage = RandomNumberGenerator.GetBytes(8192);
        await File.WriteAllBytesAsync(DbPath, garbage);
        var ex = await Assert.ThrowsAsync<StoreException>(() => OpenAsync());
        Assert.Contains("is not a SQLite database", ex.Message, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(DbPath));
    }

    [Fact]
    public async Task Open_CorruptDatabase_RefusesAndLeavesTheFileAlone()
    {
        await using (var store = await OpenAsync())
        {
            for (var i = 0; i < 200; i++)
            {
                await store.CreateAsync($"/registry/c/{i:D4}", new byte[512]);
            }
        }

        SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(DbPath);
        // Keep the header, wreck the pages after the first.
        RandomNumberGenerator.Fill(bytes.AsSpan(4096, Math.Min(bytes.Length - 4096, 32768)));
        await File.WriteAllBytesAsync(DbPath, bytes);
        var ex = await Assert.ThrowsAsync<StoreException>(() => OpenAsync());
        Assert.Contains(DbPath, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(DbPath)));
    }

    [Fact]
    public async Task Open_NewerSchema_Refuses()
    {
        await using (await OpenAsync())
        {
        }

        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE meta SET value = 99 WHERE key = 'schema_version'";
            command.ExecuteNonQuery();
        }

        var ex = await Assert.ThrowsAsync<StoreException>(() => OpenAsync());
        Assert.Contains("newer Lotse", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_Twice_SecondIsRefusedWhileTheFirstRuns()
    {
        await using var first = await OpenAsync();
        var ex = await Assert.ThrowsAsync<StoreException>(() => OpenAsync());
        Assert.Contains("in use by another process", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_FolderUnderAFile_OneLineError()
    {
        var file = Path.Combine(_dir, "file");
        await File.WriteAllTextAsync(file, "x");
        var ex = await Assert.ThrowsAsync<StoreException>(() =>
            SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(file, "db", "state.db") }, NullLoggerFactory.Instance));
        Assert.Contains("cannot create the datastore folder", ex.Message, StringComparison.Ordinal);
        _ = Encoding.UTF8;
    }
}
