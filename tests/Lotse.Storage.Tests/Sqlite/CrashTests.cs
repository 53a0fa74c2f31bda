using System.Diagnostics;
using Lotse.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Storage.Tests.Sqlite;

/// <summary>
/// kill -9 of a process in the middle of writing: every write it acknowledged is there on reopen,
/// the database passes integrity_check, and revisions continue above the last acknowledgement.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const int Rounds = 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task KillDashNine_AcknowledgedWritesSurviveEveryRound()
    {
        var path = Path.Combine(_dir, "state.db");
        var random = new Random(42);
        var totalAcks = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var acks = await RunAndKillAsync(path, round, random.Next(20, 400));
            totalAcks += acks.Count;
            Assert.NotEmpty(acks);

            await using var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = path, CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);
            foreach (var (key, revision) in acks)
            {
                var kv = await store.GetAsync(key);
                Assert.True(kv is not null, $"round {round}: acknowledged {key} at {revision} is missing");
                Assert.Equal(revision, kv.ModRevision);
            }

            Assert.True(await store.GetCurrentRevisionAsync() >= acks.Max(a => a.Revision));
            var next = await store.CreateAsync($"/registry/crash/after-{round}", [1]);
            Assert.True(next.Revision > acks.Max(a => a.Revision));
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
        Assert.True(totalAcks > Rounds * 20);
    }

    /// <summary>Starts the writer, waits for <paramref name="acksBeforeKill"/> acknowledgements, then SIGKILLs it.</summary>
    private static async Task<List<(string Key, long Revision)>> RunAndKillAsync(string path, int round, int acksBeforeKill)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Lotse.Storage.CrashWriter"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(path);
        info.ArgumentList.Add(round.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = Process.Start(info)!;
        var acks = new List<(string, long)>();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("ack ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    acks.Add((parts[1], long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
                    if (acks.Count == acksBeforeKill)
                    {
                        process.Kill(); // SIGKILL
                        break;
                    }
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync();
        }

        // Lines already written by the child before the kill are acknowledgements too.
        while (await process.StandardOutput.ReadLineAsync() is { } rest)
        {
            if (rest.StartsWith("ack ", StringComparison.Ordinal))
            {
                var parts = rest.Split(' ');
                acks.Add((parts[1], long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        Assert.True(acks.Count >= acksBeforeKill, $"writer stopped early: {await errors}");
        return acks;
    }
}
