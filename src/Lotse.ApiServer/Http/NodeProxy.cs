using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.Streaming.Http;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

/// <summary>
/// How the API server reaches node agents (kube-apiserver's kubelet client): HTTPS to the node's
/// InternalIP on its published kubelet port, presenting the API server's kubelet client
/// certificate, trusting only the cluster's server CA. Streams the agent's answer through, and
/// relays upgraded connections (exec, attach, port-forward) without looking inside.
/// </summary>
public sealed class NodeProxy : IDisposable
{
    private readonly X509Certificate2? _clientCertificate;
    private readonly X509Certificate2? _serverCa;
    private readonly Lazy<HttpClient>? _http;

    /// <param name="clientCertificate">The API server's kubelet client certificate with its key; null when no node agents are reachable (tests).</param>
    /// <param name="serverCa">The CA node serving certificates chain to.</param>
    public NodeProxy(X509Certificate2? clientCertificate, X509Certificate2? serverCa)
    {
        if (clientCertificate is null || serverCa is null)
        {
            return;
        }

        _clientCertificate = clientCertificate;
        _serverCa = serverCa;

        // Made on the first log request: a server nobody asks for logs never loads the HTTP client.
        _http = new Lazy<HttpClient>(Create);
    }

    private HttpClient Create()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = SslOptions(),
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>TLS towards node agents: our client certificate, and only agents whose certificate chains to the cluster's server CA.</summary>
    private SslClientAuthenticationOptions SslOptions() => new()
    {
        ClientCertificates = [_clientCertificate!],
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_serverCa!);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate)) && chain.ChainElements[^1].Certificate.Thumbprint == _serverCa!.Thumbprint;
        },
    };

    /// <summary>The node's name and where its agent listens (its InternalIP and published kubelet port).</summary>
    private (string Name, string Host, int Port) Endpoint(JsonObject node)
    {
        var name = node["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;
        if (_http is null)
        {
            throw StatusException.ServiceUnavailable($"this API server has no credentials for node agents: cannot reach node \"{name}\"");
        }

        var address = (node["status"]?["addresses"] as JsonArray)?.FirstOrDefault(a => a?["type"]?.GetValue<string>() == "InternalIP")?["address"]?.GetValue<string>();
        var port = node["status"]?["daemonEndpoints"]?["kubeletEndpoint"]?["Port"]?.GetValue<int>() ?? 0;
        if (address is null || port <= 0)
        {
            throw StatusException.ServiceUnavailable($"node \"{name}\" has not published its agent's address yet");
        }

        var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        return (name, host, port);
    }

    /// <summary>A node agent's refusal in kube's words: its 404 and 400 keep their meaning, anything else is the agent's trouble.</summary>
    private static StatusException Refusal(string name, int status, string text) => status switch
    {
        404 => StatusException.NotFoundMessage(text),
        400 => StatusException.BadRequest(text),
        _ => StatusException.ServiceUnavailable($"the agent of node \"{name}\" answered {status}: {text}"),
    };

    /// <summary>GETs <paramref name="pathAndQuery"/> from the node's agent and copies the answer (status, content type, body) to the client.</summary>
    public async Task ForwardGetAsync(HttpContext context, JsonObject node, string pathAndQuery, CancellationToken cancellationToken)
    {
        var (name, host, port) = Endpoint(node);
        HttpResponseMessage response;
        try
        {
            response = await _http!.Value.GetAsync(new Uri($"https://{host}:{port}{pathAndQuery}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw StatusException.ServiceUnavailable($"cannot reach the agent of node \"{name}\" at {host}:{port}: {e.Message}");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw Refusal(name, (int)response.StatusCode, (await response.Content.ReadAsStringAsync(cancellationToken)).Trim());
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "text/plain";
            await context.Response.StartAsync(cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Passes the client's upgrade request (SPDY or WebSocket; exec, attach, port-forward) to the
    /// node's agent over TLS and, once the agent switched protocols, relays the connection; a refusal
    /// is the client's Status error.
    /// </summary>
    public async Task ForwardUpgradeAsync(HttpContext context, JsonObject node, string pathAndQuery, CancellationToken cancellationToken)
    {
        var (name, host, port) = Endpoint(node);
        UpgradeResponse upstream;
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(TimeSpan.FromSeconds(5));
                await socket.ConnectAsync(host.Trim('[', ']'), port, connecting.Token);
            }

            var tls = new SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
            var options = SslOptions();
            options.TargetHost = host.Trim('[', ']');
            options.ApplicationProtocols = [SslApplicationProtocol.Http11];
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
            upstream = await UpgradeClient.SendAsync(tls, context.Request.Method, pathAndQuery, $"{host}:{port}", UpgradeForwarder.RequestHeaders(context.Request), cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw StatusException.ServiceUnavailable($"cannot reach the agent of node \"{name}\" at {host}:{port}: {e.Message}");
        }

        await using (upstream)
        {
            if (upstream.Status != 101)
            {
                throw Refusal(name, upstream.Status, upstream.Body.Trim());
            }

            await UpgradeForwarder.CompleteAsync(context, upstream, cancellationToken);
        }
    }

    public void Dispose()
    {
        if (_http is { IsValueCreated: true })
        {
            _http.Value.Dispose();
        }
    }
}
