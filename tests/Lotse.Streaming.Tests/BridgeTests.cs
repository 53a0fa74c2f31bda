using System.Net.WebSockets;
using System.Text;
using Lotse.Streaming.Channels;
using Lotse.Streaming.Spdy;

namespace Lotse.Streaming.Tests;

public sealed class BridgeTests
{
    /// <param name="protocol">The negotiated subprotocol, or null for one .NET will not name (the tunnel's has a '/').</param>
    private static async Task<(WebSocket Client, WebSocket Server)> WebSocketsAsync(string? protocol)
    {
        var (a, b) = await Loopback.PairAsync();
        var client = WebSocket.CreateFromStream(a, new WebSocketCreationOptions { IsServer = false, SubProtocol = protocol });
        var server = WebSocket.CreateFromStream(b, new WebSocketCreationOptions { IsServer = true, SubProtocol = protocol });
        return (client, server);
    }

    private static async Task<(byte Channel, string Text)?> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        return result.MessageType == WebSocketMessageType.Close ? null : (buffer[0], Encoding.UTF8.GetString(buffer, 1, result.Count - 1));
    }

    private static Task SendAsync(WebSocket socket, byte channel, string text) =>
        socket.SendAsync(new[] { channel }.Concat(Encoding.UTF8.GetBytes(text)).ToArray(), WebSocketMessageType.Binary, true, default);

    [Theory]
    [InlineData(new[] { "v5.channel.k8s.io" }, "v5.channel.k8s.io")]
    [InlineData(new[] { "v4.channel.k8s.io", "channel.k8s.io" }, "v4.channel.k8s.io")]
    [InlineData(new[] { "v4.channel.k8s.io, v5.channel.k8s.io" }, "v5.channel.k8s.io")]
    [InlineData(new[] { "base64.channel.k8s.io" }, null)]
    public void Choose_PrefersV5(string[] offered, string? chosen) => Assert.Equal(chosen, RemoteCommandBridge.Choose(offered));

    /// <summary>
    /// An exec with stdin over v5: the runtime sees the streams kubectl's SPDY client would open,
    /// stdin reaches it and is closed by the close signal, stdout and the exit Status come back on
    /// their channels, and the WebSocket closes when the runtime ends the session.
    /// </summary>
    [Fact]
    public async Task Exec_V5_BridgesChannelsToSpdyStreams_AndClosesStdinOnSignal()
    {
        var (kubectl, agent) = await WebSocketsAsync(RemoteCommandBridge.V5);
        var (spdy, runtimeEnd) = await Loopback.PairAsync();
        await using var runtime = new SpdyPeer(runtimeEnd);
        var bridge = RemoteCommandBridge.RunAsync(agent, RemoteCommandBridge.V5, spdy, new RemoteCommandOptions(Stdin: true, Stdout: true, Stderr: true, Tty: false), default);

        var streams = new Dictionary<string, int>();
        for (var i = 0; i < 4; i++)
        {
            var open = (await runtime.ReadAsync())!;
            streams[open.Headers!.Single(h => h.Key == "streamtype").Value] = open.Stream;
        }

        Assert.Equal(["error", "stdin", "stdout", "stderr"], streams.OrderBy(s => s.Value).Select(s => s.Key));
        await SendAsync(kubectl, RemoteCommandBridge.Stdin, "data");
        await kubectl.SendAsync(new byte[] { RemoteCommandBridge.Close, RemoteCommandBridge.Stdin }, WebSocketMessageType.Binary, true, default);
        var input = (await runtime.ReadAsync())!;
        Assert.Equal((streams["stdin"], "data"), (input.Stream, Encoding.UTF8.GetString(input.Payload)));
        var closed = (await runtime.ReadAsync())!;
        Assert.Equal((streams["stdin"], (byte)SpdyClient.FlagFin), (closed.Stream, closed.Flags));

        await runtime.DataAsync(streams["stdout"], "data"u8.ToArray(), fin: true);
        const string Status = """{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}""";
        await runtime.DataAsync(streams["error"], Encoding.UTF8.GetBytes(Status), fin: true);
        runtimeEnd.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);

        Assert.Equal(((byte)1, "data"), await ReceiveAsync(kubectl));
        Assert.Equal(((byte)3, Status), await ReceiveAsync(kubectl));
        Assert.Null(await ReceiveAsync(kubectl));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, kubectl.CloseStatus);
        await kubectl.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, default);
        await bridge.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Exec_WithTty_OpensResize_AndForwardsTerminalSizes()
    {
        var (kubectl, agent) = await WebSocketsAsync(RemoteCommandBridge.V4);
        var (spdy, runtimeEnd) = await Loopback.PairAsync();
        await using var runtime = new SpdyPeer(runtimeEnd);
        var bridge = RemoteCommandBridge.RunAsync(agent, RemoteCommandBridge.V4, spdy, new RemoteCommandOptions(Stdin: true, Stdout: true, Stderr: true, Tty: true), default);
        var types = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            types.Add((await runtime.ReadAsync())!.Headers!.Single().Value);
        }

        Assert.Equal(["error", "stdin", "stdout", "resize"], types); // a terminal has no separate stderr
        await SendAsync(kubectl, RemoteCommandBridge.Resize, """{"Width":80,"Height":24}""");
        var resize = (await runtime.ReadAsync())!;
        Assert.Equal((7, """{"Width":80,"Height":24}"""), (resize.Stream, Encoding.UTF8.GetString(resize.Payload)));

        // v4 has no close signal: a client that goes away ends the session.
        await kubectl.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, default);
        runtimeEnd.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        await bridge.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Tunnel_CarriesBytesBothWays_AndClosesWithTheConnection()
    {
        var (kubectl, agent) = await WebSocketsAsync(null);
        var (spdy, runtimeEnd) = await Loopback.PairAsync();
        var bridge = TunnelBridge.RunAsync(agent, spdy, default);
        await kubectl.SendAsync(new byte[] { 0x80, 0x03, 0, 1 }, WebSocketMessageType.Binary, true, default);
        var up = new byte[4];
        await runtimeEnd.ReadExactlyAsync(up);
        Assert.Equal(new byte[] { 0x80, 0x03, 0, 1 }, up);
        await runtimeEnd.WriteAsync("pong"u8.ToArray());
        var buffer = new byte[16];
        var result = await kubectl.ReceiveAsync(buffer, default);
        Assert.Equal("pong", Encoding.ASCII.GetString(buffer, 0, result.Count));
        runtimeEnd.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        Assert.Equal(WebSocketMessageType.Close, (await kubectl.ReceiveAsync(buffer, default)).MessageType);
        await kubectl.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, default);
        await bridge.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
