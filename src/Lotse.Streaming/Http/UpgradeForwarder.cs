using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Lotse.Streaming.Http;

/// <summary>
/// Passes an upgrade request on to the next hop and, once that hop switched protocols, answers the
/// client with the same 101 and relays bytes (kube's UpgradeAwareHandler): the API server in front of
/// node agents, an agent in front of the runtime's streaming server. Neither needs to speak the
/// protocol inside.
/// </summary>
public static class UpgradeForwarder
{
    private static readonly HashSet<string> Forwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "X-Stream-Protocol-Version",
    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Content-Length", "Transfer-Encoding", "Date", "Server", "Keep-Alive",
    };

    /// <summary>Whether the client asked to switch protocols (SPDY or WebSocket) on this HTTP/1.1 request.</summary>
    public static bool IsUpgrade(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } && request.Headers.Upgrade.Count > 0;

    /// <summary>The client's headers an upgrade carries to the next hop.</summary>
    public static IEnumerable<KeyValuePair<string, string>> RequestHeaders(HttpRequest request) =>
        request.Headers.Where(h => Forwarded.Contains(h.Key)).SelectMany(h => h.Value.OfType<string>().Select(v => KeyValuePair.Create(h.Key, v)));

    /// <summary>Answers the client with the next hop's 101 and its headers, then relays both connections until either ends.</summary>
    public static async Task CompleteAsync(HttpContext context, UpgradeResponse upstream, CancellationToken cancellationToken)
    {
        var feature = context.Features.Get<IHttpUpgradeFeature>();
        if (feature is not { IsUpgradableRequest: true } || upstream.Connection is null)
        {
            throw new InvalidOperationException("the request cannot be upgraded");
        }

        foreach (var (name, value) in upstream.Headers)
        {
            if (!NotReturned.Contains(name))
            {
                context.Response.Headers.Append(name, value);
            }
        }

        await using var client = await feature.UpgradeAsync();
        await Relay.RunAsync(client, upstream.Connection, cancellationToken);
    }
}
