using System.CommandLine;
using Lotse.Server;

namespace Lotse.Commands;

internal static class ServerCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var endpoint = new Option<string>("--datastore-endpoint")
        {
            Description = "Datastore: empty for the embedded SQLite database (<data-dir>/server/db/state.db), or etcd as http(s)://host:2379[,…]",
            DefaultValueFactory = _ => string.Empty,
        };
        var caFile = new Option<string?>("--datastore-cafile") { Description = "TLS CA file for etcd" };
        var certFile = new Option<string?>("--datastore-certfile") { Description = "TLS client certificate for etcd" };
        var keyFile = new Option<string?>("--datastore-keyfile") { Description = "TLS client key for etcd" };
        var compactInterval = new Option<TimeSpan>("--datastore-compact-interval")
        {
            Description = "How often old revisions are compacted (0 disables)",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(5),
            CustomParser = r => Durations.Parse(r),
        };
        var compactRetain = new Option<long>("--datastore-compact-retain")
        {
            Description = "Compaction keeps at least this many recent revisions",
            DefaultValueFactory = _ => 1000,
        };

        var command = new Command(
            "server",
            "Run the control plane. For now it opens (or creates) the datastore and keeps it compacted; "
            + "the API server, controllers and node agent join in later releases.");
        common.AddTo(command);
        command.Options.Add(endpoint);
        command.Options.Add(caFile);
        command.Options.Add(certFile);
        command.Options.Add(keyFile);
        command.Options.Add(compactInterval);
        command.Options.Add(compactRetain);

        command.SetAction((parsed, cancellationToken) =>
        {
            var options = new ServerOptions
            {
                DataDir = parsed.GetValue(common.DataDir)!,
                DatastoreEndpoint = parsed.GetValue(endpoint) ?? string.Empty,
                DatastoreCaFile = parsed.GetValue(caFile),
                DatastoreCertFile = parsed.GetValue(certFile),
                DatastoreKeyFile = parsed.GetValue(keyFile),
                CompactInterval = parsed.GetValue(compactInterval),
                CompactRetainRevisions = parsed.GetValue(compactRetain),
            };
            return RunAsync(options, common, parsed, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServerOptions options, CommonOptions common, ParseResult parsed, CancellationToken cancellationToken)
    {
        await LotseServer.RunAsync(options, common.Logging(parsed), cancellationToken);
        return 0;
    }
}
