using System.Text;
using Lotse.Streaming.Spdy;

namespace Lotse.Streaming.Tests;

public sealed class SpdyClientTests
{
    [Fact]
    public void HeaderBlock_RoundTrips_LowerCasesNames_JoinsRepeatedValues()
    {
        var block = HeaderBlock.Encode([KeyValuePair.Create("streamType", "data"), KeyValuePair.Create("Port", "80"), KeyValuePair.Create("port", "81")]);
        Assert.Equal([KeyValuePair.Create("streamtype", "data"), KeyValuePair.Create("port", "80"), KeyValuePair.Create("port", "81")], HeaderBlock.Decode(block));
    }

    [Theory]
    [InlineData(new byte[] { 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 9, (byte)'a' })]
    [InlineData(new byte[] { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff })]
    public void HeaderBlock_Malformed_IsInvalidData(byte[] block) =>
        Assert.Throws<InvalidDataException>(() => HeaderBlock.Decode(block));

    [Fact]
    public async Task Session_OpensStreamsWithCompressedHeaders_SendsAndReceivesData_AnswersPings()
    {
        var (client, server) = await Loopback.PairAsync();
        await using var peer = new SpdyPeer(server);
        var received = new List<(int Stream, string Text)>();
        var ended = new List<int>();
        await using var session = new SpdyClient(client, (stream, data, _) => { received.Add((stream, Encoding.UTF8.GetString(data.Span))); return ValueTask.CompletedTask; }, ended.Add);

        var error = await session.OpenStreamAsync([KeyValuePair.Create("streamType", "error")], default);
        var stdin = await session.OpenStreamAsync([KeyValuePair.Create("streamType", "stdin")], default);
        Assert.Equal((1, 3), (error, stdin));
        await session.WriteAsync(stdin, "hello"u8.ToArray(), default);
        await session.CloseStreamAsync(stdin, default);

        var first = (await peer.ReadAsync())!;
        Assert.Equal((true, (int)SpdyFrameType.SynStream, 1), (first.Control, first.Type, first.Stream));
        Assert.Equal([KeyValuePair.Create("streamtype", "error")], first.Headers);
        var second = (await peer.ReadAsync())!;
        Assert.Equal([KeyValuePair.Create("streamtype", "stdin")], second.Headers);
        var data = (await peer.ReadAsync())!;
        Assert.Equal((false, 3, "hello"), (data.Control, data.Stream, Encoding.UTF8.GetString(data.Payload)));
        var fin = (await peer.ReadAsync())!;
        Assert.Equal((false, 3, (byte)1, 0), (fin.Control, fin.Stream, fin.Flags, fin.Payload.Length));

        var run = session.RunAsync(default);
        await peer.ControlAsync(SpdyFrameType.SynReply, [0, 0, 0, 1, 0, 0, 0, 0]);
        await peer.ControlAsync(SpdyFrameType.Ping, [0, 0, 0, 2]);
        var pong = (await peer.ReadAsync())!;
        Assert.Equal((int)SpdyFrameType.Ping, pong.Type);
        Assert.Equal(new byte[] { 0, 0, 0, 2 }, pong.Payload);
        await peer.DataAsync(1, "{\"status\":\"Success\"}"u8.ToArray(), fin: true);
        await peer.ControlAsync(SpdyFrameType.GoAway, [0, 0, 0, 0, 0, 0, 0, 0]);
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([(1, "{\"status\":\"Success\"}")], received);
        Assert.Equal([1], ended);
    }

    [Fact]
    public async Task HeaderBlocks_AreOneZlibStreamWithoutPresetDictionary()
    {
        var (client, server) = await Loopback.PairAsync();
        await using var peer = new SpdyPeer(server);
        await using var session = new SpdyClient(client, (_, _, _) => ValueTask.CompletedTask, _ => { });
        await session.OpenStreamAsync([KeyValuePair.Create("streamType", "data"), KeyValuePair.Create("port", "8080")], default);
        await session.OpenStreamAsync([KeyValuePair.Create("streamType", "error"), KeyValuePair.Create("port", "8080")], default);
        var first = (await peer.ReadAsync())!;
        Assert.Equal(0, first.Payload[11] & 0x20); // zlib FLG: no FDICT
        Assert.Equal(0x78, first.Payload[10]);
        var second = (await peer.ReadAsync())!;
        Assert.Equal([KeyValuePair.Create("streamtype", "error"), KeyValuePair.Create("port", "8080")], second.Headers);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x02, 0, 1, 0, 0, 0, 0 }, "SPDY version 2")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 9, 1, 2 }, "ended inside a frame")]
    public async Task MalformedFrames_EndTheSessionWithInvalidData(byte[] bytes, string message)
    {
        var (client, server) = await Loopback.PairAsync();
        await using var peer = new SpdyPeer(server);
        await using var session = new SpdyClient(client, (_, _, _) => ValueTask.CompletedTask, _ => { });
        var run = session.RunAsync(default);
        await peer.WriteAsync(bytes);
        server.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
