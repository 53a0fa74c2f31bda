using System.Net;
using System.Net.Sockets;

namespace Lotse.Streaming.Tests;

/// <summary>Two ends of a real TCP connection on 127.0.0.1, for protocol tests.</summary>
internal static class Loopback
{
    public static async Task<(NetworkStream Client, NetworkStream Server)> PairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient { NoDelay = true };
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accept;
        return (client.GetStream(), server.GetStream());
    }
}
