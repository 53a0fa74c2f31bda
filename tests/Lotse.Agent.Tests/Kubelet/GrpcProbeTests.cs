using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Lotse.Agent.Kubelet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lotse.Agent.Tests.Kubelet;

/// <summary>
/// The kubelet's gRPC probe against a health server made here: plain HTTP/2 on loopback answering
/// grpc.health.v1.Health/Check per service name (SERVING, NOT_SERVING, or Unimplemented).
/// </summary>
public sealed class GrpcProbeTests : IAsyncLifetime
{
    private WebApplication? _app;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        _app = builder.Build();
        _app.Run(AnswerAsync);
        await _app.StartAsync();
        _port = new Uri(_app.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        var service = bytes.Length > 7 ? System.Text.Encoding.UTF8.GetString(bytes, 7, bytes[6]) : string.Empty;
        context.Response.ContentType = "application/grpc";
        if (service == "unimplemented" || context.Request.Path != "/grpc.health.v1.Health/Check")
        {
            context.Response.AppendTrailer("grpc-status", "12");
            context.Response.AppendTrailer("grpc-message", "unknown service grpc.health.v1.Health");
            return;
        }

        byte status = service switch { "" => 1, "db" => 2, _ => 3 };
        var message = new byte[] { 0x08, status };
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        await context.Response.Body.WriteAsync(frame);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    [Fact]
    public async Task Serving_Passes() =>
        Assert.Null(await Prober.GrpcProbeAsync("127.0.0.1", _port, string.Empty, TimeSpan.FromSeconds(2), default));

    [Theory]
    [InlineData("db", "service unhealthy (responded with \"NOT_SERVING\")")]
    [InlineData("other", "service unhealthy (responded with \"SERVICE_UNKNOWN\")")]
    [InlineData("unimplemented", "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health")]
    public async Task NotServing_FailsInTheKubeletsWords(string service, string expected) =>
        Assert.Equal(expected, await Prober.GrpcProbeAsync("127.0.0.1", _port, service, TimeSpan.FromSeconds(2), default));

    [Fact]
    public async Task NothingListening_FailsToConnect()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closed = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var failure = await Prober.GrpcProbeAsync("127.0.0.1", closed, string.Empty, TimeSpan.FromSeconds(2), default);
        Assert.StartsWith($"error: failed to connect service at \"127.0.0.1:{closed}\"", failure, StringComparison.Ordinal);
    }
}
