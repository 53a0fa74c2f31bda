using Lotse.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

/// <summary>
/// The composition root of <c>lotse server</c>. Start order: open the store (fail fast with one
/// line), then start the host's services. The API server joins here with its own issue.
/// </summary>
public static partial class LotseServer
{
    public static StoreOptions ToStoreOptions(this ServerOptions options) => new()
    {
        Endpoint = options.DatastoreEndpoint,
        SqlitePath = options.DatabasePath,
        CaFile = options.DatastoreCaFile,
        CertFile = options.DatastoreCertFile,
        KeyFile = options.DatastoreKeyFile,
        CompactionInterval = options.CompactInterval,
        CompactionRetainRevisions = options.CompactRetainRevisions,
    };

    public static async Task RunAsync(ServerOptions options, Action<ILoggingBuilder> configureLogging, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(configureLogging);
        var log = loggerFactory.CreateLogger("Lotse.Server");
        var storeOptions = options.ToStoreOptions();

        LogPhase(log, storeOptions.IsEtcd ? $"Connecting to etcd at {storeOptions.Endpoint}" : $"Opening the embedded datastore {storeOptions.SqlitePath}");
        await using var store = await StoreFactory.OpenAsync(storeOptions, loggerFactory, cancellationToken);
        LogPhase(log, $"Datastore ready at revision {await store.GetCurrentRevisionAsync(cancellationToken)}");

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.Services.AddLotseStore(store, storeOptions);
        using var host = builder.Build();
        LogPhase(log, "Lotse server is running (the API server is not part of this build yet; Ctrl-C stops it)");
        try
        {
            await host.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopped while starting: as clean as a stop after
        }

        LogPhase(log, "Lotse server stopped");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Phase}")]
    private static partial void LogPhase(ILogger logger, string phase);
}
