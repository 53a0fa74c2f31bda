using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

/// <summary>
/// How the API server reaches node agents (kube-apiserver's kubelet client): HTTPS to the node's
/// InternalIP on its published kubelet port, presenting the API server's kubelet client
/// certificate, trusting only the cluster's server CA. Streams the agent's answer through.
/// </summary>
public sealed class NodeProxy : IDisposable
{
    private readonly Lazy<HttpClient>? _http;

    /// <param name="clientCertificate">The API server's kubelet client certificate with its key; null when no node agents are reachable (tests).</param>
    /// <param name="serverCa">The CA node serving certificates chain to.</param>
    public NodeProxy(X509Certificate2? clientCertificate, X509Certificate2? serverCa)
    {
        if (clientCertificate is null || serverCa is null)
        {
            return;
        }

        // Made on the first log request: a server nobody asks for logs never loads the HTTP client.
        _http = new Lazy<HttpClient>(() => Create(clientCertificate, serverCa));
    }

    private static HttpClient Create(X509Certificate2 clientCertificate, X509Certificate2 serverCa)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions =
            {
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(serverCa);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate)) && chain.ChainElements[^1].Certificate.Thumbprint == serverCa.Thumbprint;
                },
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>GETs <paramref name="pathAndQuery"/> from the node's agent and copies the answer (status, content type, body) to the client.</summary>
    public async Task ForwardGetAsync(HttpContext context, JsonObject node, string pathAndQuery, CancellationToken cancellationToken)
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
        HttpResponseMessage response;
        try
        {
            response = await _http.Value.GetAsync(new Uri($"https://{host}:{port}{pathAndQuery}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw StatusException.ServiceUnavailable($"cannot reach the agent of node \"{name}\" at {host}:{port}: {e.Message}");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
                throw response.StatusCode switch
                {
                    HttpStatusCode.NotFound => StatusException.NotFoundMessage(text),
                    HttpStatusCode.BadRequest => StatusException.BadRequest(text),
                    _ => StatusException.ServiceUnavailable($"the agent of node \"{name}\" answered {(int)response.StatusCode}: {text}"),
                };
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

    public void Dispose()
    {
        if (_http is { IsValueCreated: true })
        {
            _http.Value.Dispose();
        }
    }
}
