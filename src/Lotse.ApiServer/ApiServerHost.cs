using System.Net;
using System.Security.Cryptography.X509Certificates;
using Lotse.ApiServer.Allocation;
using Lotse.ApiServer.Authentication;
using Lotse.ApiServer.Authorization;
using Lotse.ApiServer.Discovery;
using Lotse.ApiServer.Http;
using Lotse.ApiServer.OpenApi;
using Lotse.ApiServer.Patching;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Reviews;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.Strategies;
using Lotse.ApiServer.Tables;
using Lotse.ApiServer.WatchCache;
using Lotse.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lotse.ApiServer;

/// <summary>
/// Builds the API server: Kestrel on HTTPS (HTTP/1.1 and HTTP/2) with optional client certificates,
/// the watch caches, the registry with every built-in kind, and the one request router.
/// </summary>
public static class ApiServerHost
{
    /// <summary>kube-apiserver's admission plugins for pods, in its order: ServiceAccount, then Priority.</summary>
    private static IObjectHooks? PodAdmission(IReadOnlySet<string> disabled, IStore store, Func<CacheSet> caches)
    {
        var plugins = new List<IObjectHooks>();
        if (!disabled.Contains(Admission.ServiceAccountAdmission.PluginName))
        {
            plugins.Add(new Admission.ServiceAccountAdmission(
                async (ns, name, cancellationToken) =>
                {
                    var key = $"/registry/serviceaccounts/{ns}/{name}";
                    if (caches().Find("/registry/serviceaccounts/")?.Objects.GetValueOrDefault(key) is { } cached)
                    {
                        return cached.Object;
                    }

                    return await store.GetAsync(key, cancellationToken) is { } live ? CachedObject.FromStore(live).Object : null;
                },
                TimeProvider.System));
        }

        if (!disabled.Contains(Admission.AdmissionPlugins.Priority))
        {
            plugins.Add(new Admission.PodPriority(() => caches().Find("/registry/priorityclasses.scheduling.k8s.io/")?.Objects.Values.Select(o => o.Object) ?? []));
        }

        return plugins.Count switch
        {
            0 => null,
            1 => plugins[0],
            _ => new HookChain([.. plugins]),
        };
    }

    public static WebApplication Build(
        ApiServerOptions options,
        IStore store,
        X509Certificate2 servingCertificate,
        Func<X509Certificate2, UserInfo?> certificateAuthenticator,
        IReadOnlyList<Func<string, UserInfo?>> tokenAuthenticators,
        Action<ILoggingBuilder> configureLogging,
        IReadOnlyDictionary<string, RequestDelegate>? ownEndpoints = null)
    {
        if (!IPAddress.TryParse(options.BindAddress, out var bind))
        {
            throw new StartupException($"--bind-address \"{options.BindAddress}\" is not an IP address");
        }

        var staticTokens = string.IsNullOrEmpty(options.TokenAuthFile) ? [] : StaticTokenFile.Load(options.TokenAuthFile);
        var allocator = new ServiceAllocator(store, options.ServiceCidr, options.NodePortRange);
        CacheSet? caches = null; // built with the app below; pods are admitted only once it serves
        var podAdmission = PodAdmission(options.DisabledAdmissionPlugins, store, () => caches!);
        var registry = ResourceRegistry.CreateBuiltIn(d => d with
        {
            Strategy = BuiltInStrategies.For(d.Group, d.Kind),
            Table = BuiltInTables.For(d.Group, d.Version, d.Kind),
            Hooks = (d.Group, d.Plural) switch
            {
                ("", "services") => allocator,
                ("", "pods") => podAdmission,
                _ => null,
            },
        });

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestBody.DrainBytes;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(bind, options.HttpsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = servingCertificate,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    // Chains are checked per request against the client CA (RequestAuthenticator); the
                    // handshake only collects the certificate, as kube-apiserver's TLS config does.
                    ClientCertificateValidation = (_, _, _) => true,
                    CheckCertificateRevocation = false,
                });
            });
        });

        var services = builder.Services;
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["application/json", "application/yaml", "text/plain"];
        });
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(store);
        services.AddSingleton(options);
        services.AddSingleton(registry);
        services.AddSingleton(allocator);
        services.AddSingleton<CacheSet>();
        services.AddSingleton<ObjectStore>();
        services.AddSingleton<ResponseWriter>();
        services.AddSingleton(new NodeProxy(options.KubeletClientCertificate, options.KubeletCa));
        services.AddSingleton<ReviewHandler>();
        services.AddSingleton<Apiextensions.CustomResourceRegistrar>();
        services.AddSingleton<ResourceHandler>();
        services.AddSingleton(new OpenApiDocuments(registry));
        services.AddSingleton(new DiscoveryDocuments(registry, $"{options.AdvertiseAddress}:{options.HttpsPort}"));
        services.AddSingleton(ServiceAccountTokens.LoadOrCreate(options.TlsDir, options.ClusterDomain, TimeProvider.System));
        services.AddSingleton<ServiceAccountAuthenticator>();
        services.AddSingleton(sp => new RequestAuthenticator(certificateAuthenticator, staticTokens, tokenAuthenticators, options.AnonymousAuth, sp.GetRequiredService<ServiceAccountAuthenticator>()));
        services.AddSingleton<IAuthorizer, AllowAuthenticatedAuthorizer>();
        services.AddSingleton<ApiRouter>();

        var app = builder.Build();
        caches = app.Services.GetRequiredService<CacheSet>();
        app.UseResponseCompression();
        if (ownEndpoints is { Count: > 0 })
        {
            // The server's own paths outside the Kubernetes API (K3s' /cacerts and node join),
            // which authenticate their callers themselves.
            app.Use(async (context, next) =>
            {
                if (ownEndpoints.TryGetValue(context.Request.Path.Value ?? string.Empty, out var endpoint))
                {
                    await endpoint(context);
                }
                else
                {
                    await next(context);
                }
            });
        }

        var router = app.Services.GetRequiredService<ApiRouter>();
        app.Run(router.InvokeAsync);
        return app;
    }

    /// <summary>Loads the watch caches and puts the system objects in place; call before accepting traffic.</summary>
    public static async Task InitializeAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var registry = app.Services.GetRequiredService<ResourceRegistry>();
        var caches = app.Services.GetRequiredService<CacheSet>();
        await caches.StartAsync(registry.StoredResources.Select(r => r.KeyPrefix), cancellationToken);

        // Custom resources are served before traffic is, and follow their definitions from then on.
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = await app.Services.GetRequiredService<Apiextensions.CustomResourceRegistrar>().StartAsync(stopping);
        var options = app.Services.GetRequiredService<ApiServerOptions>();
        await Bootstrap.EnsureAsync(
            registry,
            app.Services.GetRequiredService<ObjectStore>(),
            app.Services.GetRequiredService<ServiceAllocator>(),
            options.AdvertiseAddress,
            options.HttpsPort,
            cancellationToken);
    }
}
