using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lotse.Storage;
using Lotse.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Benchmarks.Storage;

/// <summary>
/// The store benchmark of the foundation issue: create / update / get / range(1000) / watch delivery,
/// at 1 and 16 concurrent writers, for each backend, beside the raw baseline measured in the same run
/// (plain SQLite INSERT+COMMIT with the same durability settings; raw etcd through the same gRPC channel).
/// Prints one table; ratios are store ÷ raw.
/// </summary>
internal static class StoreHarness
{
    private const int ValueSize = 1024;
    private static readonly byte[] Value = Encoding.ASCII.GetBytes(new string('v', ValueSize));

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args[0] : "sqlite";
        var operations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4000;
        var rows = new List<string[]>();
        Console.WriteLine($"store benchmark: {operations} operations per measurement, {ValueSize}-byte values, {Environment.ProcessorCount} cores");
        if (which is "sqlite" or "all")
        {
            await SqliteAsync(operations, rows);
        }

        if (which is "etcd" or "all")
        {
            await EtcdBench.RunAsync(operations, rows);
        }

        Print(rows);
        return 0;
    }

    private static async Task SqliteAsync(int operations, List<string[]> rows)
    {
        foreach (var writers in new[] { 1, 16 })
        {
            var rawDir = Directory.CreateTempSubdirectory("lotse-bench-raw-").FullName;
            var raw = await RawSqliteCreatesAsync(Path.Combine(rawDir, "raw.db"), operations, writers);
            Directory.Delete(rawDir, true);
            rows.Add(Row("raw sqlite", "insert+commit", writers, raw, null));

            var dir = Directory.CreateTempSubdirectory("lotse-bench-sqlite-").FullName;
            await using (var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(dir, "state.db"), CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance))
            {
                foreach (var row in await MeasureStoreAsync("sqlite", store, operations, writers, raw))
                {
                    rows.Add(row);
                }
            }

            Directory.Delete(dir, true);
        }

        rows.Add(await CompactionStallAsync(operations));
    }

    /// <summary>
    /// Writers keep writing while a large history is compacted: their worst latencies show whether
    /// compaction (in batches, behind ordinary writes) ever holds a writer up.
    /// </summary>
    private static async Task<string[]> CompactionStallAsync(int operations)
    {
        var dir = Directory.CreateTempSubdirectory("lotse-bench-compact-").FullName;
        try
        {
            await using var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(dir, "state.db"), CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);
            var keys = 500;
            var revisions = new long[keys];
            for (var i = 0; i < keys; i++)
            {
                revisions[i] = (await store.CreateAsync($"/registry/history/{i:D4}", Value)).Revision;
            }

            var history = Math.Max(20_000, operations * 10);
            for (var round = 0; round < history / keys; round++)
            {
                var results = await Task.WhenAll(Enumerable.Range(0, keys).Select(i => store.UpdateAsync($"/registry/history/{i:D4}", Value, revisions[i])));
                for (var i = 0; i < keys; i++)
                {
                    revisions[i] = results[i].Revision;
                }
            }

            var target = await store.GetCurrentRevisionAsync();
            var compaction = store.CompactAsync(target);
            var writes = await RunAsync(operations, 4, i => store.CreateAsync($"/registry/during/{i:D8}", Value));
            await compaction;
            return Row("sqlite", $"create during compaction of {target} revisions (max {writes.Latency.At(100) / 1000:F1} ms)", 4, writes, null);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>create, update, get, range(1000) and watch delivery against one store.</summary>
    public static async Task<List<string[]>> MeasureStoreAsync(string name, IStore store, int operations, int writers, Result? rawCreate)
    {
        var rows = new List<string[]>();
        var prefix = $"/registry/bench-{Guid.NewGuid():N}/";
        var create = await RunAsync(operations, writers, i => store.CreateAsync($"{prefix}{i:D8}", Value));
        rows.Add(Row(name, "create", writers, create, rawCreate));
        var revisions = new long[operations];
        for (var i = 0; i < operations; i++)
        {
            revisions[i] = (await store.GetAsync($"{prefix}{i:D8}"))!.ModRevision;
        }

        var update = await RunAsync(operations, writers, async i =>
        {
            var result = await store.UpdateAsync($"{prefix}{i:D8}", Value, revisions[i]);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"update {i} failed: {result.Status}");
            }
        });
        rows.Add(Row(name, "update", writers, update, null));
        var get = await RunAsync(operations, writers, i => store.GetAsync($"{prefix}{(i * 7919) % operations:D8}"));
        rows.Add(Row(name, "get", writers, get, null));
        var rangeOps = Math.Max(20, operations / 100);
        var range = await RunAsync(rangeOps, writers, async _ =>
        {
            var page = await store.RangeAsync(new RangeRequest(prefix, 1000));
            if (page.Items.Count != Math.Min(1000, operations))
            {
                throw new InvalidOperationException("short range");
            }
        });
        rows.Add(Row(name, "range(1000)", writers, range, null));
        rows.Add(Row(name, "watch delivery", writers, await WatchDeliveryAsync(store, prefix + "w/", Math.Min(operations, 2000), writers), null));
        return rows;
    }

    /// <summary>Writes carry their start timestamp; one watcher measures start → event received.</summary>
    private static async Task<Result> WatchDeliveryAsync(IStore store, string prefix, int operations, int writers)
    {
        var latencies = new Percentiles();
        using var cts = new CancellationTokenSource();
        var from = await store.GetCurrentRevisionAsync();
        var seen = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in store.WatchAsync(prefix, from, cts.Token))
                {
                    if (e.Type != WatchEventType.Put)
                    {
                        continue;
                    }

                    var started = BitConverter.ToInt64(e.Kv.Value);
                    latencies.Add(started);
                    if (++seen == operations)
                    {
                        done.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var sw = Stopwatch.StartNew();
        await RunAsync(operations, writers, i => store.CreateAsync($"{prefix}{i:D8}", BitConverter.GetBytes(Stopwatch.GetTimestamp())));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        sw.Stop();
        await cts.CancelAsync();
        await watcher;
        return new Result(operations / sw.Elapsed.TotalSeconds, latencies);
    }

    private static async Task<Result> RawSqliteCreatesAsync(string path, int operations, int writers)
    {
        static SqliteConnection Open(string path)
        {
            var c = new SqliteConnection($"Data Source={path};Pooling=False;Default Timeout=60");
            c.Open();
            using var p = c.CreateCommand();
            p.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=60000;";
            p.ExecuteNonQuery();
            return c;
        }

        using (var setup = Open(path))
        {
            using var create = setup.CreateCommand();
            create.CommandText = "CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value BLOB)";
            create.ExecuteNonQuery();
        }

        var connections = Enumerable.Range(0, writers).Select(_ => Open(path)).ToArray();
        try
        {
            var next = -1;
            var latencies = new Percentiles();
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(connections.Select(c => Task.Run(() =>
            {
                using var insert = c.CreateCommand();
                insert.CommandText = "INSERT INTO kv (name, value) VALUES ($name, $value)";
                var name = insert.Parameters.Add("$name", SqliteType.Text);
                insert.Parameters.AddWithValue("$value", Value);
                int i;
                while ((i = Interlocked.Increment(ref next)) < operations)
                {
                    var start = Stopwatch.GetTimestamp();
                    using var tx = c.BeginTransaction(deferred: false);
                    insert.Transaction = tx;
                    name.Value = $"/raw/{i:D8}";
                    insert.ExecuteNonQuery();
                    tx.Commit();
                    latencies.Add(start);
                }
            })));
            sw.Stop();
            return new Result(operations / sw.Elapsed.TotalSeconds, latencies);
        }
        finally
        {
            foreach (var c in connections)
            {
                c.Dispose();
            }

            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Runs <paramref name="operations"/> calls spread over <paramref name="writers"/> concurrent loops.</summary>
    public static async Task<Result> RunAsync(int operations, int writers, Func<int, Task> operation)
    {
        var next = -1;
        var latencies = new Percentiles();
        var allocated = GC.GetTotalAllocatedBytes();
        var paused = GC.GetTotalPauseDuration();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < operations)
            {
                var start = Stopwatch.GetTimestamp();
                await operation(i);
                latencies.Add(start);
            }
        })));
        sw.Stop();
        return new Result(operations / sw.Elapsed.TotalSeconds, latencies)
        {
            AllocatedPerOperation = (GC.GetTotalAllocatedBytes() - allocated) / operations,
            GcPauseShare = (GC.GetTotalPauseDuration() - paused) / sw.Elapsed,
            CpuPerOperation = (Process.GetCurrentProcess().TotalProcessorTime - cpu) / operations,
        };
    }

    /// <summary>A measurement: rate, latencies, and (for in-process runs) what it cost the garbage collector.</summary>
    public sealed record Result(double OpsPerSecond, Percentiles Latency)
    {
        /// <summary>Bytes allocated by the whole process per operation (server and client when both run here).</summary>
        public long AllocatedPerOperation { get; init; }

        /// <summary>The share of the wall time the process spent paused for garbage collection.</summary>
        public double GcPauseShare { get; init; }

        /// <summary>Processor time of the whole process per operation (server and client when both run here).</summary>
        public TimeSpan CpuPerOperation { get; init; }
    }

    public static string[] Row(string backend, string operation, int writers, Result result, Result? baseline) =>
    [
        backend,
        operation,
        writers.ToString(CultureInfo.InvariantCulture),
        result.OpsPerSecond.ToString("F0", CultureInfo.InvariantCulture),
        (result.Latency.At(50) / 1000).ToString("F2", CultureInfo.InvariantCulture),
        (result.Latency.At(99) / 1000).ToString("F2", CultureInfo.InvariantCulture),
        result.CpuPerOperation.TotalMicroseconds.ToString("F0", CultureInfo.InvariantCulture),
        (result.AllocatedPerOperation / 1024.0).ToString("F1", CultureInfo.InvariantCulture),
        (result.GcPauseShare * 100).ToString("F0", CultureInfo.InvariantCulture) + "%",
        baseline is null ? string.Empty : $"{result.OpsPerSecond / baseline.OpsPerSecond * 100:F0}% of raw",
    ];

    private static void Print(List<string[]> rows)
    {
        string[] header = ["backend", "operation", "writers", "ops/s", "p50 ms", "p99 ms", "CPU µs/op", "KB/op", "GC", "vs raw"];
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c >= 2 && c <= 8 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))));
        }
    }
}
