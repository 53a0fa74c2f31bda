using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Lotse.Streaming.Channels;
using Lotse.Streaming.Http;
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
/// <c>/containerLogs/{namespace}/{pod}/{container}</c> with the pods/log parameters,
/// <c>/exec</c>, <c>/attach</c> and <c>/portForward</c> (SPDY and WebSocket), and <c>/healthz</c>.
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
        app.UseWebSockets();
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
            case ["exec", var ns, var pod, var container]:
                await StreamAsync(context, kubelet, StreamingRequest.From(StreamingKind.Exec, ns, pod, container, context.Request.Query), cancellationToken);
                return;
            case ["attach", var ns, var pod, var container]:
                await StreamAsync(context, kubelet, StreamingRequest.From(StreamingKind.Attach, ns, pod, container, context.Request.Query), cancellationToken);
                return;
            case ["portForward", var ns, var pod]:
                await StreamAsync(context, kubelet, StreamingRequest.From(StreamingKind.PortForward, ns, pod, null, context.Request.Query), cancellationToken);
                return;
            default:
                await PlainAsync(context, 404, $"{context.Request.Path} is not served by this node agent");
                return;
        }
    }

    /// <summary>
    /// exec, attach and port-forward: the runtime's streaming server does the work. SPDY clients are
    /// passed through to it as they are; WebSocket clients are bridged — channels to a SPDY
    /// remote-command session, or the port-forward tunnel unwrapped onto a SPDY connection.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, Kubelet kubelet, StreamingRequest request, CancellationToken cancellationToken)
    {
        if (!UpgradeForwarder.IsUpgrade(context.Request))
        {
            await PlainAsync(context, 400, "Upgrade request required");
            return;
        }

        var websocket = context.WebSockets.IsWebSocketRequest;
        string? protocol = null;
        if (websocket)
        {
            var offered = context.WebSockets.WebSocketRequestedProtocols;
            protocol = request.Kind == StreamingKind.PortForward
                ? offered.FirstOrDefault(p => p == TunnelBridge.Protocol)
                : RemoteCommandBridge.Choose(offered);
            if (protocol is null)
            {
                await PlainAsync(context, 400, $"none of the offered WebSocket protocols is supported: [{string.Join(", ", offered)}]");
                return;
            }
        }

        var (url, status, error) = await kubelet.StreamingUrlAsync(request, cancellationToken);
        if (error is not null)
        {
            await PlainAsync(context, status, error);
            return;
        }

        IEnumerable<KeyValuePair<string, string>> headers = websocket
            ? [KeyValuePair.Create("Connection", "Upgrade"), KeyValuePair.Create("Upgrade", "SPDY/3.1"), KeyValuePair.Create("X-Stream-Protocol-Version", request.Kind == StreamingKind.PortForward ? TunnelBridge.SpdyProtocol : RemoteCommandBridge.SpdyProtocol)]
            : UpgradeForwarder.RequestHeaders(context.Request);
        UpgradeResponse upstream;
        try
        {
            upstream = await UpgradeClient.ConnectAsync(url!, "POST", headers, cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await PlainAsync(context, 500, $"the runtime's streaming server is not reachable: {e.Message}");
            return;
        }

        await using (upstream)
        {
            if (upstream.Status != 101)
            {
                await PlainAsync(context, upstream.Status is >= 400 and < 600 ? upstream.Status : 500, upstream.Body.Trim());
                return;
            }

            if (!websocket)
            {
                await UpgradeForwarder.CompleteAsync(context, upstream, cancellationToken);
                return;
            }

            // The tunnel's protocol name has a '/', which .NET refuses as a subprotocol token; kubectl
            // needs it echoed all the same, so the header is set here and the socket accepted without one.
            context.Response.Headers.SecWebSocketProtocol = protocol;
            using var socket = await context.WebSockets.AcceptWebSocketAsync((string?)null);
            if (request.Kind == StreamingKind.PortForward)
            {
                await TunnelBridge.RunAsync(socket, upstream.Connection!, cancellationToken);
            }
            else
            {
                await RemoteCommandBridge.RunAsync(socket, protocol!, upstream.Connection!, request.Options, cancellationToken);
            }
        }
    }

    /// <summary>A plain-text answer with its length, so a proxy in front relays it without waiting for the connection to close.</summary>
    private static async Task PlainAsync(HttpContext context, int status, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
