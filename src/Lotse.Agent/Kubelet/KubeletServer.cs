using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

/// <summary>The node agent's HTTPS port credentials: its serving certificate and the CA whose clients it accepts.</summary>
public sealed record KubeletServing(string CertificatePem, string KeyPem, string ClientCaPem, int Port = 10250)
{
    /// <summary>The client the API server presents (kube-apiserver's kubelet client).</summary>
    public const string ApiServerUser = "kube-apiserver-kubelet-client";
}

/// <summary>
/// The kubelet's HTTPS port (10250): only the API server's client certificate (from the cluster's
/// client CA, <see cref="KubeletServing.ApiServerUser"/>) is accepted; it serves
/// <c>/containerLogs/{namespace}/{pod}/{container}</c> with the pods/log parameters, and
/// <c>/healthz</c>.
/// </summary>
internal sealed class KubeletServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KubeletServer(WebApplication app) => _app = app;

    public static async Task<KubeletServer> StartAsync(KubeletServing serving, Kubelet kubelet, Action<ILoggingBuilder> logging, CancellationToken cancellationToken)
    {
        var clientCa = X509Certificate2.CreateFromPem(serving.ClientCaPem);
        var certificate = X509Certificate2.CreateFromPem(serving.CertificatePem, serving.KeyPem);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        logging(builder.Logging);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Any, serving.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (client, _, _) => IsApiServer(client, clientCa),
                    CheckCertificateRevocation = false,
                });
            });
        });
        var app = builder.Build();
        app.Run(context => HandleAsync(context, kubelet));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"the kubelet port {serving.Port} is not available: {e.Message}", e);
        }

        return new KubeletServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private static bool IsApiServer(X509Certificate2 client, X509Certificate2 ca) =>
        Join.Certificates.ChainsTo(client, ca) && client.GetNameInfo(X509NameType.SimpleName, false) == KubeletServing.ApiServerUser;

    private static async Task HandleAsync(HttpContext context, Kubelet kubelet)
    {
        var segments = (context.Request.Path.Value ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var cancellationToken = context.RequestAborted;
        switch (segments)
        {
            case ["healthz"]:
                await PlainAsync(context, 200, "ok");
                return;
            case ["containerLogs", var ns, var pod, var container] when context.Request.Method == "GET":
                var query = context.Request.Query;
                bool Flag(string name) => query[name].ToString() is "true" or "1";
                long? Number(string name) => long.TryParse(query[name].ToString(), CultureInfo.InvariantCulture, out var n) ? n : null;
                DateTimeOffset? since = DateTimeOffset.TryParse(query["sinceTime"].ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
                    : Number("sinceSeconds") is { } seconds ? DateTimeOffset.UtcNow.AddSeconds(-seconds) : null;
                var options = new LogOptions { Follow = Flag("follow"), TailLines = Number("tailLines"), Timestamps = Flag("timestamps"), Since = since, LimitBytes = Number("limitBytes") };
                var log = await kubelet.FindContainerLogAsync(ns, pod, container, Flag("previous"), cancellationToken);
                if (log.Error is { } error)
                {
                    await PlainAsync(context, log.Status, error);
                    return;
                }

                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/plain";
                await context.Response.StartAsync(cancellationToken);
                try
                {
                    await ContainerLogs.WriteAsync(log.Path!, options, context.Response.Body, () => kubelet.IsRunningAsync(log.ContainerId!, cancellationToken), cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // kubectl logs -f stopped
                }

                return;
            default:
                await PlainAsync(context, 404, $"{context.Request.Path} is not served by this node agent");
                return;
        }
    }

    private static async Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }
}
