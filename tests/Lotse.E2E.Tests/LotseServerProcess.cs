using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Lotse.E2E.Tests;

/// <summary>
/// A real <c>lotse server</c> process in a temporary data dir, on a free port, writing its admin
/// kubeconfig into that dir. Stopped by PID (SIGTERM, then SIGKILL) and cleaned up on dispose.
/// </summary>
public sealed partial class LotseServerProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private Process? _process;

    /// <param name="agent">Run the node agent (containerd and the kubelet) too; the API tests run the control plane alone.</param>
    /// <param name="bindAddress">Where the API server listens (loopback unless a test needs another host to reach it).</param>
    public LotseServerProcess(string? dataDir = null, bool agent = false, string bindAddress = "127.0.0.1")
    {
        Agent = agent;
        BindAddress = bindAddress;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory("lotse-e2e-").FullName;
        Port = FreePort();
    }

    public string DataDir { get; }

    public bool Agent { get; }

    public string BindAddress { get; }

    public string Url => $"https://{BindAddress}:{Port}";

    /// <summary>The join token the server wrote.</summary>
    public string Token => File.ReadAllText(Path.Combine(DataDir, "server", "token")).Trim();

    public int Port { get; private set; }

    public string Kubeconfig => Path.Combine(DataDir, "kubeconfig.yaml");

    public static string Binary => Path.Combine(AppContext.BaseDirectory, "lotse");

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public async Task StartAsync(params string[] extraArgs)
    {
        lock (_gate)
        {
            _output.Clear(); // a restart waits for its own "running" line
        }

        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["server", "--data-dir", DataDir, "--bind-address", BindAddress, "--tls-san", BindAddress, "--https-listen-port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--write-kubeconfig", Kubeconfig, "--advertise-address", "10.0.0.1", .. (Agent ? [] : (string[])["--disable-agent"]), .. extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Output.Contains("Lotse server is running", StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"lotse server did not start:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_gate)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>SIGTERM and wait; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode ?? 0;
        }

        _ = Kill(_process.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
