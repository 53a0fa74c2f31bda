using System.Net.Sockets;
using Grpc.Net.Client;
using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Cri;

/// <summary>The CRI v1 runtime and image services of one runtime, over its unix socket.</summary>
public sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public CriClient(string socketPath)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            // containerd restarts: a broken connection is replaced on the next call.
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
        Runtime = new RuntimeService.RuntimeServiceClient(_channel);
        Images = new ImageService.ImageServiceClient(_channel);
    }

    public string SocketPath { get; }

    internal RuntimeService.RuntimeServiceClient Runtime { get; }

    internal ImageService.ImageServiceClient Images { get; }

    public void Dispose() => _channel.Dispose();
}
