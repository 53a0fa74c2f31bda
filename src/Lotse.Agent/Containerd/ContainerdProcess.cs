using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Containerd;

/// <summary>
/// containerd from the system package, run by the agent as a child process with its own generated
/// configuration, root, state and socket under the agent's data directory (K3s does the same).
/// It is watched and restarted when it dies; a containerd left running by an earlier agent (the
/// agent was killed) is adopted through its pid file rather than started twice. Containers outlive
/// it: their shims keep them running while containerd is away.
/// </summary>
public sealed partial class ContainerdProcess : IAsyncDisposable
{
    private readonly ContainerdConfig _config;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _supervisor = Task.CompletedTask;
    private int _pid;

    public ContainerdProcess(ContainerdConfig config, ILoggerFactory loggerFactory)
    {
        _config = config;
        _logger = loggerFactory.CreateLogger<ContainerdProcess>();
    }

    public string SocketPath => _config.SocketPath;

    public int Pid => Volatile.Read(ref _pid);

    /// <summary>Writes the configuration, starts (or adopts) containerd and waits until its CRI answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var binary = FindBinary("containerd") ?? throw new InvalidOperationException("containerd is not installed (apt-get install containerd runc containernetworking-plugins), or pass --container-runtime-endpoint");
        var changed = _config.Write();
        if (ReadLivePid() is { } adopted)
        {
            if (changed)
            {
                // It runs with an older config (registry credentials are read only at start):
                // restart it. Its containers keep running under their shims meanwhile.
                LogRestartingForConfig(_logger, adopted);
                await StopAdoptedAsync(adopted, cancellationToken);
                Launch(binary);
            }
            else
            {
                _pid = adopted;
                LogAdopted(_logger, adopted);
            }
        }
        else
        {
            Launch(binary);
        }

        await WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
        _supervisor = Task.Run(() => SuperviseAsync(binary, _stop.Token), CancellationToken.None);
    }

    /// <summary>Stops containerd (SIGTERM, then SIGKILL after 10 s). Running containers stay up.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _supervisor.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Pid > 0 && IsAlive(Pid))
        {
            try
            {
                using var process = Process.GetProcessById(Pid);
                Signal(Pid, 15);
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        File.Delete(_config.PidFile);
        _stop.Dispose();
    }

    /// <summary>SIGTERM to a containerd this agent did not start, SIGKILL after 10 s; it is no child, so its end is watched in /proc.</summary>
    private static async Task StopAdoptedAsync(int pid, CancellationToken cancellationToken)
    {
        Signal(pid, 15);
        for (var waited = 0; IsAlive(pid); waited += 100)
        {
            if (waited == 10_000)
            {
                Signal(pid, 9);
            }
            else if (waited > 15_000)
            {
                throw new InvalidOperationException($"containerd (pid {pid}) did not stop for its new configuration");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private void Launch(string binary)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_config.LogFile)!);
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "exec \"$0\" --config \"$1\" >>\"$2\" 2>&1 </dev/null", binary, _config.ConfigFile, _config.LogFile },
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("containerd did not start");
        _pid = process.Id;
        File.WriteAllText(_config.PidFile, process.Id.ToString(CultureInfo.InvariantCulture));
        LogStarted(_logger, process.Id, _config.LogFile);
    }

    private async Task SuperviseAsync(string binary, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                if (IsAlive(Pid))
                {
                    backoff = TimeSpan.FromSeconds(1);
                    continue;
                }

                LogDied(_logger, Pid, backoff.TotalSeconds);
                await Task.Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                Launch(binary);
                await WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                LogRestartFailed(_logger, e.Message);
            }
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new CriClient(_config.SocketPath);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(_config.SocketPath))
            {
                try
                {
                    await client.Runtime.VersionAsync(new VersionRequest { Version = "v1" }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken);
                    return;
                }
                catch (RpcException)
                {
                    // Not serving yet.
                }
            }

            if (!IsAlive(Pid))
            {
                throw new InvalidOperationException($"containerd exited during start-up; see {_config.LogFile}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"containerd did not answer on {_config.SocketPath} within {timeout.TotalSeconds:0} s; see {_config.LogFile}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The pid in the pid file, if that process is still a containerd.</summary>
    private int? ReadLivePid()
    {
        if (!File.Exists(_config.PidFile) || !int.TryParse(File.ReadAllText(_config.PidFile).Trim(), CultureInfo.InvariantCulture, out var pid) || !IsAlive(pid))
        {
            return null;
        }

        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            return commandLine.Contains(_config.ConfigFile, StringComparison.Ordinal) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        try
        {
            // A zombie (our exited child not yet reaped) counts as dead.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return state.Length > 0 && state[0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    internal static string? FindBinary(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static void Signal(int pid, int signal) => _ = Kill(pid, signal);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "containerd started (pid {Pid}, log {Log})")]
    private static partial void LogStarted(ILogger logger, int pid, string log);

    [LoggerMessage(Level = LogLevel.Information, Message = "containerd already running (pid {Pid}) with an older configuration: restarting it")]
    private static partial void LogRestartingForConfig(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "containerd already running (pid {Pid}): adopted")]
    private static partial void LogAdopted(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "containerd (pid {Pid}) died; restarting in {Seconds} s")]
    private static partial void LogDied(ILogger logger, int pid, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "containerd restart failed: {Message}")]
    private static partial void LogRestartFailed(ILogger logger, string message);
}
