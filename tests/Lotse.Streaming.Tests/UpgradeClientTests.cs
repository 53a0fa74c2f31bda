using System.Text;
using Lotse.Streaming.Http;

namespace Lotse.Streaming.Tests;

public sealed class UpgradeClientTests
{
    private static async Task<string> ReadHeadAsync(Stream server)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await server.ReadAsync(one) == 1)
        {
            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    [Fact]
    public async Task SwitchingProtocols_HandsBackTheConnection_WithBytesPastTheHeadFirst()
    {
        var (client, server) = await Loopback.PairAsync();
        var answer = Task.Run(async () =>
        {
            var head = await ReadHeadAsync(server);
            await server.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nearly"u8.ToArray());
            return head;
        });
        await using var response = await UpgradeClient.SendAsync(client, "POST", "/exec/x?command=ls", "127.0.0.1:1", [KeyValuePair.Create("Upgrade", "SPDY/3.1"), KeyValuePair.Create("X-Stream-Protocol-Version", "v4.channel.k8s.io")], default);
        var head = await answer;
        Assert.StartsWith("POST /exec/x?command=ls HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n", head, StringComparison.Ordinal);
        Assert.Equal(101, response.Status);
        Assert.Equal(["v4.channel.k8s.io"], response.Values("x-stream-protocol-version"));
        var early = new byte[5];
        await response.Connection!.ReadExactlyAsync(early);
        Assert.Equal("early", Encoding.ASCII.GetString(early));
        await server.WriteAsync("late"u8.ToArray());
        var late = new byte[4];
        await response.Connection.ReadExactlyAsync(late);
        Assert.Equal("late", Encoding.ASCII.GetString(late));
    }

    [Fact]
    public async Task Refusal_ComesBackWithItsStatusAndBody()
    {
        var (client, server) = await Loopback.PairAsync();
        _ = Task.Run(async () =>
        {
            await ReadHeadAsync(server);
            await server.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\ncontainer not found (\"c\")\n"u8.ToArray());
        });
        await using var response = await UpgradeClient.SendAsync(client, "GET", "/exec/x", "h", [], default);
        Assert.Equal((404, "container not found (\"c\")\n", (Stream?)null), (response.Status, response.Body, response.Connection));
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("HTTP/1.1 abc\r\n\r\n")]
    public async Task NotHttp_IsAnIOException(string answer)
    {
        var (client, server) = await Loopback.PairAsync();
        _ = Task.Run(async () =>
        {
            await ReadHeadAsync(server);
            await server.WriteAsync(Encoding.ASCII.GetBytes(answer));
        });
        await Assert.ThrowsAsync<IOException>(() => UpgradeClient.SendAsync(client, "GET", "/", "h", [], default));
    }

    [Fact]
    public async Task HeaderWithLineBreak_IsRefusedBeforeAnythingIsSent()
    {
        var (client, _) = await Loopback.PairAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => UpgradeClient.SendAsync(client, "GET", "/", "h", [KeyValuePair.Create("X", "a\r\nInjected: 1")], default));
    }
}
