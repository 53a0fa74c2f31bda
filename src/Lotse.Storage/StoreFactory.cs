using Lotse.Storage.Etcd;
using Lotse.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Lotse.Storage;

/// <summary>Opens the datastore the options name: embedded SQLite, or etcd for <c>http(s)://</c> endpoints.</summary>
public static class StoreFactory
{
    public static async Task<IStore> OpenAsync(StoreOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        if (options.IsEtcd)
        {
            return await EtcdStore.ConnectAsync(options, loggerFactory, cancellationToken);
        }

        if (!string.IsNullOrEmpty(options.Endpoint))
        {
            throw new StoreException($"unsupported --datastore-endpoint \"{options.Endpoint}\": leave it empty for the embedded SQLite store, or give etcd endpoints as http(s)://host:2379[,…]");
        }

        return await SqliteStore.OpenAsync(options, loggerFactory, cancellationToken);
    }
}
