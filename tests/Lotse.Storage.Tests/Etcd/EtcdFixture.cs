using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lotse.Storage.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lotse.Storage.Tests.Etcd;

/// <summary>
/// A real etcd (Debian's etcd-server) on 127.0.0.1 with free ports in a temporary folder. Stopped by
/// PID and removed on dispose, also when tests fail. Can be killed and restarted (same data) for
/// failover tests; extra args configure TLS.
/// </summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public const string Binary = "/usr/bin/etcd";
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("lotse-etcd-").FullName;
    private readonly string[] _extraArgs;
    private readonly string _scheme;
    private Process? _process;

    public EtcdFixture()
        : this([], "http")
    {
    }

    internal EtcdFixture(string[] extraArgs, string scheme)
    {
        _extraArgs = extraArgs;
        _scheme = scheme;
        ClientPort = FreePort();
        PeerPort = FreePort();
    }

    public int ClientPort { get; }

    public int PeerPort { get; }

    public string Endpoint => $"{_scheme}://127.0.0.1:{ClientPort}";

    public string DataDirectory => _dir;

    public static bool Available => File.Exists(Binary);

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[
            "--name", "lotse-test",
            "--data-dir", Path.Combine(_dir, "data"),
            "--listen-client-urls", Endpoint,
            "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{PeerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{PeerPort}",
            "--initial-cluster", $"lotse-test=http://127.0.0.1:{PeerPort}",
            "--log-level", "error",
            .. _extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with {_process.ExitCode}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, ClientPort);
                await Task.Delay(200); // listening; give the member a moment to elect itself
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("etcd did not start within 30 s");
    }

    /// <summary>kill -9 of the member (its data stays; StartAsync brings it back).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public Task<IStore> ConnectAsync(StoreOptions? options = null) =>
        EtcdStore.ConnectAsync((options ?? new StoreOptions()) with { Endpoint = options?.Endpoint is { Length: > 0 } e ? e : Endpoint }, NullLoggerFactory.Instance);

    public async Task DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
