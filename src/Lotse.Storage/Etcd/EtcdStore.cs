using Microsoft.Extensions.Logging;

namespace Lotse.Storage.Etcd;

// Placeholder so the solution builds while the implementation is written; replaced before landing.
public sealed class EtcdStore
{
    public static Task<IStore> ConnectAsync(StoreOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();
}
