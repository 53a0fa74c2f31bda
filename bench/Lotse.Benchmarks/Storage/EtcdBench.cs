using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Lotse.Storage;
using Lotse.Storage.Etcd;
using Lotse.Storage.Etcd.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Benchmarks.Storage;

/// <summary>
/// The etcd half of the store benchmark: a real etcd (Debian's etcd-server) started for the run on
/// loopback, the store over it, and raw etcd Put/Range calls through the store's own gRPC channel.
/// </summary>
internal static class EtcdBench
{
    private static readonly ByteString Value = ByteString.CopyFrom(new byte[1024]);

    public static async Task RunAsync(int operations, List<string[]> rows)
    {
        var dir = Directory.CreateTempSubdirectory("lotse-bench-etcd-").FullName;
        var client = FreePort();
        var peer = FreePort();
        using var etcd = Process.Start(new ProcessStartInfo("/usr/bin/etcd",
            $"--name bench --data-dir {dir}/data --listen-client-urls http://127.0.0.1:{client} --advertise-client-urls http://127.0.0.1:{client} " +
            $"--listen-peer-urls http://127.0.0.1:{peer} --initial-advertise-peer-urls http://127.0.0.1:{peer} --initial-cluster bench=http://127.0.0.1:{peer} --log-level error")
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            IStore? store = null;
            for (var i = 0; i < 100 && store is null; i++)
            {
                try
                {
                    store = await EtcdStore.ConnectAsync(new StoreOptions { Endpoint = $"http://127.0.0.1:{client}" }, NullLoggerFactory.Instance);
                }
                catch (StoreException)
                {
                    await Task.Delay(100);
                }
            }

            await using var _ = store ?? throw new InvalidOperationException("etcd did not start");
            var kv = new KV.KVClient(((EtcdStore)store).Channel);
            foreach (var writers in new[] { 1, 16 })
            {
                var prefix = $"/raw/{writers}/";
                var rawPut = await StoreHarness.RunAsync(operations, writers, i => kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"{prefix}{i:D8}"), Value = Value }).ResponseAsync);
                rows.Add(StoreHarness.Row("raw etcd", "put", writers, rawPut, null));
                var rawRange = await StoreHarness.RunAsync(Math.Max(20, operations / 100), writers, _ => kv.RangeAsync(new Lotse.Storage.Etcd.Wire.RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(prefix[..^1] + "0"), Limit = 1000 }).ResponseAsync);
                rows.Add(StoreHarness.Row("raw etcd", "range(1000)", writers, rawRange, null));
                rows.AddRange(await StoreHarness.MeasureStoreAsync("etcd", store, operations, writers, rawPut));
            }
        }
        finally
        {
            etcd.Kill();
            await etcd.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }

        _ = Encoding.UTF8;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
