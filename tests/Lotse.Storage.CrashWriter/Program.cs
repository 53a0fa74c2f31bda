using System.Globalization;
using System.Text;
using Lotse.Storage;
using Lotse.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

// The victim of the crash test: writes to the SQLite store with 4 concurrent writers, forever, and
// prints "ack <key> <revision>" for every write the store acknowledged. The test kills it with SIGKILL
// at a random moment and checks that every acknowledged write survived.
var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = args[0], CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);
var round = args.Length > 1 ? args[1] : "0";
var output = Console.Out;
var gate = new Lock();
Console.WriteLine("ready");
await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
{
    for (var i = 0; ; i++)
    {
        var key = $"/registry/crash/{round}/{writer}/{i:D6}";
        var result = await store.CreateAsync(key, Encoding.UTF8.GetBytes(new string('x', 512 + (i % 512))));
        if (result.Status != WriteStatus.Ok)
        {
            throw new InvalidOperationException($"create {key}: {result.Status}");
        }

        lock (gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {key} {result.Revision}"));
            output.Flush();
        }
    }
})));
