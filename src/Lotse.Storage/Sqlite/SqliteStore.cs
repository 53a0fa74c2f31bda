using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Sqlite;

// Placeholder so the solution builds while the implementation is written; replaced before landing.
public sealed class SqliteStore
{
    public static Task<IStore> OpenAsync(StoreOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();
}
