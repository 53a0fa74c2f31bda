using Lotse.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers an already opened store (opening happens before the host starts, so that a bad
    /// database or an unreachable etcd is a one-line start-up error, not a crash inside the host)
    /// and the automatic compaction loop.
    /// </summary>
    public static IServiceCollection AddLotseStore(this IServiceCollection services, IStore store, StoreOptions options)
    {
        services.TryAddSingleton(store);
        services.TryAddSingleton(options);
        services.AddHostedService<CompactionService>();
        return services;
    }

    private sealed class CompactionService(IStore store, StoreOptions options, ILogger<AutoCompactor> logger) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            new AutoCompactor(store, options.CompactionInterval, options.CompactionRetainRevisions, logger).RunAsync(stoppingToken);
    }
}
