using System.Buffers;
using System.Net.WebSockets;
using Lotse.Streaming.Spdy;

namespace Lotse.Streaming.Channels;

/// <summary>
/// kubectl's WebSocket exec and attach (<c>v5.channel.k8s.io</c>, <c>v4.channel.k8s.io</c>) on top of
/// a SPDY remote-command session with the runtime's streaming server (protocol v4): every WebSocket
/// message is one channel byte and data — 0 stdin, 1 stdout, 2 stderr, 3 error (the metav1.Status
/// that says how the command ended, passed through), 4 resize (the terminal size as JSON) — and v5
/// adds 255, the close signal (its payload names the channel: closing stdin half-closes the SPDY
/// stdin stream, so the command sees end of input). The WebSocket closes when the runtime ends the
/// session.
/// </summary>
public static class RemoteCommandBridge
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";

    /// <summary>The SPDY remote-command protocol asked of the runtime.</summary>
    public const string SpdyProtocol = "v4.channel.k8s.io";

    public const byte Stdin = 0;
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte Error = 3;
    public const byte Resize = 4;
    public const byte Close = 255;

    /// <summary>The protocol to answer with among those the client offered (Sec-WebSocket-Protocol), or null.</summary>
    public static string? Choose(IEnumerable<string> offered)
    {
        var protocols = offered.SelectMany(o => o.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        return protocols.Contains(V5) ? V5 : protocols.Contains(V4) ? V4 : null;
    }

    public static async Task RunAsync(WebSocket socket, string protocol, Stream spdyConnection, RemoteCommandOptions options, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var send = new SemaphoreSlim(1, 1);
        var channels = new Dictionary<int, byte>();
        var session = new SpdyClient(
            spdyConnection,
            async (stream, data, ct) =>
            {
                if (channels.TryGetValue(stream, out var channel))
                {
                    await SendAsync(socket, send, channel, data, ct);
                }
            },
            _ => { });
        await using (session)
        {
            async Task<int> OpenAsync(string type, byte channel)
            {
                var id = await session.OpenStreamAsync([KeyValuePair.Create("streamType", type)], stop.Token);
                channels[id] = channel;
                return id;
            }

            // kubectl's order: error first, then the standard streams, then resize.
            await OpenAsync("error", Error);
            int? stdin = options.Stdin ? await OpenAsync("stdin", Stdin) : null;
            if (options.Stdout)
            {
                await OpenAsync("stdout", Stdout);
            }

            if (options.SeparateStderr)
            {
                await OpenAsync("stderr", Stderr);
            }

            int? resize = options.Tty ? await OpenAsync("resize", Resize) : null;
            var runtime = session.RunAsync(stop.Token);
            var client = ForwardClientAsync(socket, session, protocol == V5, stdin, resize, stop.Token);
            try
            {
                await Task.WhenAny(runtime, client);
                await runtime.WaitAsync(client.IsCompleted ? TimeSpan.FromSeconds(2) : Timeout.InfiniteTimeSpan, stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException or InvalidDataException or WebSocketException or ObjectDisposedException)
            {
                // The client left, or the runtime's session broke: what it sent so far was passed on.
            }

            await send.WaitAsync(CancellationToken.None);
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
            finally
            {
                send.Release();
            }

            // Let the client answer the close before giving up on it (a cancelled receive aborts the socket).
            if (await Task.WhenAny(client, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) != client)
            {
                await stop.CancelAsync();
            }

            await client.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        send.Dispose();
    }

    /// <summary>Client messages to the runtime until the client closes: stdin, resize, and (v5) the close of stdin.</summary>
    private static async Task ForwardClientAsync(WebSocket socket, SpdyClient session, bool v5, int? stdin, int? resize, CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                message.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(message.GetMemory(16 * 1024), cancellationToken);
                    message.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (message.WrittenCount == 0)
                {
                    continue;
                }

                var data = message.WrittenMemory[1..];
                switch (message.WrittenSpan[0])
                {
                    case Stdin when stdin is { } id && data.Length > 0:
                        await session.WriteAsync(id, data, cancellationToken);
                        break;
                    case Resize when resize is { } id:
                        await session.WriteAsync(id, data, cancellationToken);
                        break;
                    case Close when v5 && data.Length > 0 && data.Span[0] == Stdin && stdin is { } id:
                        await session.CloseStreamAsync(id, cancellationToken);
                        stdin = null;
                        break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }

        if (stdin is { } open)
        {
            try
            {
                await session.CloseStreamAsync(open, cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The session is over already.
            }
        }
    }

    private static async ValueTask SendAsync(WebSocket socket, SemaphoreSlim send, byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await send.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            send.Release();
        }
    }
}
