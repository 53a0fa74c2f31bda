using Lotse.Storage.Sqlite;
using Lotse.Storage.Tests.Contract;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Storage.Tests.Sqlite;

/// <summary>The contract suite against the embedded SQLite store (a fresh database per test).</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-sqlite-contract-").FullName;

    protected override Task<IStore> CreateStoreAsync() =>
        SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(_dir, "state.db"), CompactionInterval = TimeSpan.Zero }, NullLoggerFactory.Instance);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
