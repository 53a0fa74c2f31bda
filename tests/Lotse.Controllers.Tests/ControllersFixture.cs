using k8s;
using Lotse.Client.Informers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Controllers.Tests;

/// <summary>The real API server in-process with the controller manager running against it, as in <c>lotse server</c>.</summary>
public sealed class ControllersFixture : IAsyncLifetime, IDisposable
{
    public const string RootCa = "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n";
    private readonly CancellationTokenSource _stop = new();
    private Kubernetes? _client;
    private Kubernetes? _loopClient;
    private ControllerManager? _manager;
    private Task? _run;

    public ApiServerFixture Server { get; } = new();

    public Kubernetes Client => _client!;

    public ControllerManager Manager => _manager!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        _client = Server.Kubernetes();
        _loopClient = Server.Kubernetes();
        var informers = new InformerFactory(_loopClient, NullLoggerFactory.Instance);
        _manager = new ControllerManager(informers, RootCa, NullLoggerFactory.Instance);
        _run = Task.WhenAll(_manager.RunAsync(_stop.Token), informers.RunAsync(_stop.Token));
        await _manager.Synced.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        await Server.DisposeAsync();
    }

    /// <summary>xunit calls this after <see cref="DisposeAsync"/>.</summary>
    public void Dispose()
    {
        _manager?.Dispose();
        _client?.Dispose();
        _loopClient?.Dispose();
        _stop.Dispose();
    }

    /// <summary>Polls until the condition holds (controllers act asynchronously); fails after 20 s with what was waited for.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ControllersGroup : ICollectionFixture<ControllersFixture>
{
    public const string Name = "controllers";
}
