using System.Net.WebSockets;

namespace Lotse.Streaming.Channels;

/// <summary>
/// kubectl's port-forward over WebSocket (<c>SPDY/3.1+portforward.k8s.io</c>, kubectl 1.31+): the
/// WebSocket's binary messages carry a SPDY session byte for byte; unwrapped, they go to a SPDY
/// connection with the runtime's port-forward server, and its bytes come back as binary messages.
/// </summary>
public static class TunnelBridge
{
    public const string Protocol = "SPDY/3.1+portforward.k8s.io";

    /// <summary>The SPDY protocol asked of the runtime.</summary>
    public const string SpdyProtocol = "portforward.k8s.io";

    public static async Task RunAsync(WebSocket socket, Stream connection, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = UpAsync(socket, connection, stop.Token);
        var down = DownAsync(socket, connection, stop.Token);
        await Task.WhenAny(up, down);
        if (down.IsCompleted)
        {
            // The runtime ended: say so and let the client answer the close (a cancelled receive would abort the socket).
            await CloseAsync(socket);
            if (await Task.WhenAny(up, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != up)
            {
                await stop.CancelAsync();
            }

            await up;
        }
        else
        {
            // The client ended: stop reading the runtime, then complete the close.
            await stop.CancelAsync();
            await down;
            await CloseAsync(socket);
        }
    }

    private static async Task CloseAsync(WebSocket socket)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, closing.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // Gone already.
        }
    }

    private static async Task UpAsync(WebSocket socket, Stream connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                await connection.WriteAsync(buffer.AsMemory(0, result.Count), cancellationToken);
                await connection.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Either side went away.
        }
    }

    private static async Task DownAsync(WebSocket socket, Stream connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await connection.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Either side went away.
        }
    }
}
