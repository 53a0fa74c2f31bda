using Lotse.ApiServer;
using Lotse.ApiServer.Authentication;
using Lotse.ApiServer.Security;
using Lotse.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lotse.Server;

/// <summary>
/// The composition root of <c>lotse server</c>. Start order, each step gating the next: the store
/// (fail fast with one line), the cluster's certificates, the join token and admin kubeconfig, the
/// API server's caches and system objects, then HTTPS. Components that are clients of the API
/// (controllers, scheduler, agent) join here with their own issues.
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
        if (!options.DisableAgent)
        {
            // The node flags (and the registries file) are checked before anything starts.
            try
            {
                _ = options.Agent.Resolve(options.DataDir, "127.0.0.1", controlPlane: true, options.ClusterDomain);
            }
            catch (ArgumentException e)
            {
                throw new StartupException(e.Message, e);
            }
        }

        using var loggerFactory = LoggerFactory.Create(configureLogging);
        var log = loggerFactory.CreateLogger("Lotse.Server");
        var storeOptions = options.ToStoreOptions();

        LogPhase(log, storeOptions.IsEtcd ? $"Connecting to etcd at {storeOptions.Endpoint}" : $"Opening the embedded datastore {storeOptions.SqlitePath}");
        await using var store = await StoreFactory.OpenAsync(storeOptions, loggerFactory, cancellationToken);
        LogPhase(log, $"Datastore ready at revision {await store.GetCurrentRevisionAsync(cancellationToken)}");

        var advertise = options.AdvertiseAddress is { Length: > 0 } a ? a : Agent.Node.HostAddress.PrimaryIPv4();
        var pki = ClusterPki.LoadOrCreate(options.TlsDir, new PkiOptions
        {
            ClusterDomain = options.ClusterDomain,
            ServiceCidr = options.ServiceCidr,
            TlsSans = [.. options.TlsSans, advertise],
        }, TimeProvider.System);
        LogPhase(log, $"Certificates ready in {options.TlsDir}");

        var token = JoinToken.LoadOrCreate(options.TokenFile, options.Token, pki.ServerCaPem);
        var joinToken = JoinToken.Parse(token);
        var server = $"https://{(options.BindAddress is "0.0.0.0" or "::" ? "127.0.0.1" : options.BindAddress)}:{options.HttpsListenPort}";
        var (adminCert, adminKey) = pki.AdminCredentials;
        Kubeconfig.Write(options.WriteKubeconfig, Kubeconfig.Render(server, pki.ServerCaPem, adminCert, adminKey), options.WriteKubeconfigMode);
        LogPhase(log, $"Wrote the admin kubeconfig to {options.WriteKubeconfig}");

        var apiOptions = new ApiServerOptions
        {
            BindAddress = options.BindAddress,
            HttpsPort = options.HttpsListenPort,
            AdvertiseAddress = advertise,
            TlsDir = options.TlsDir,
            TlsSans = options.TlsSans,
            ServiceCidr = options.ServiceCidr,
            ClusterCidr = options.ClusterCidr,
            ClusterDomain = options.ClusterDomain,
            TokenAuthFile = options.TokenAuthFile,
            AnonymousAuth = options.AnonymousAuth,
            DisabledAdmissionPlugins = options.DisabledAdmissionPlugins,
            KubeletClientCertificate = KubeletClientCertificate(pki),
            KubeletCa = pki.ServerCa,
        };
        await using var app = ApiServerHost.Build(
            apiOptions,
            store,
            pki.ServingCertificate,
            certificate => pki.IsClientCertificateTrusted(certificate, out var user, out var groups) ? new UserInfo(user, [.. groups, UserInfo.Authenticated]) : null,
            [t => joinToken.SecretMatches(t) ? new UserInfo("lotse:server-token", ["system:masters", UserInfo.Authenticated]) : null],
            configureLogging,
            NodeJoinEndpoints.Create(pki, joinToken));
        await ApiServerHost.InitializeAsync(app, cancellationToken);
        var compactor = new AutoCompactor(store, storeOptions.CompactionInterval, storeOptions.CompactionRetainRevisions, loggerFactory.CreateLogger<AutoCompactor>());
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var compaction = compactor.RunAsync(stopping.Token);
        await app.StartAsync(cancellationToken);
        LogPhase(log, $"API server listening on https://{options.BindAddress}:{options.HttpsListenPort}");

        var loops = options.DisableControllerManager && options.DisableScheduler
            ? null
            : await ControlLoops.StartAsync(server, pki, options, loggerFactory, cancellationToken);
        LogPhase(log, loops?.Description ?? "Controllers and scheduler disabled");
        (Agent.NodeAgent Agent, k8s.Kubernetes Client)? agent = null;
        if (!options.DisableAgent)
        {
            LogPhase(log, "Starting the node agent (containerd, kubelet)");
            try
            {
                agent = await LocalAgent.StartAsync(server, pki, options, Agent.Node.HostAddress.PrimaryIPv4(), loggerFactory, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or ArgumentException or IOException or Grpc.Core.RpcException)
            {
                if (loops is not null)
                {
                    await loops.DisposeAsync();
                }

                throw new StartupException($"the node agent could not start: {e.Message} (--disable-agent runs the control plane alone)", e);
            }

            LogPhase(log, $"Node agent running (CRI at {agent.Value.Agent.RuntimeEndpoint})");
        }

        LogPhase(log, $"Lotse server is running; run: kubectl --kubeconfig {options.WriteKubeconfig} get namespaces");

        // Start-up leaves garbage behind (certificates, discovery and OpenAPI building, first lists):
        // collect it once and hand the memory back, so a server at rest stays small.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        LogPhase(log, "Shutting down");
        await stopping.CancelAsync();
        await compaction.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (agent is { } running)
        {
            await running.Agent.DisposeAsync();
            running.Client.Dispose();
        }

        if (loops is not null)
        {
            await loops.DisposeAsync();
        }

        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await app.StopAsync(stopTimeout.Token);
        LogPhase(log, "Lotse server stopped");
    }

    /// <summary>What the API server presents to node agents (logs): a client certificate they accept by name.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 KubeletClientCertificate(ClusterPki pki)
    {
        var (certificate, key) = pki.IssueClientCertificate(Agent.Kubelet.KubeletServing.ApiServerUser, ["system:masters"], TimeSpan.FromDays(365));
        return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(certificate, key);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Phase}")]
    private static partial void LogPhase(ILogger logger, string phase);
}
