using System.Security.Cryptography;

namespace Lotse.Tests.Cli;

/// <summary>The real executable: start-up, shutdown, and one-line errors for bad input.</summary>
public sealed class ServerCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A server that stays inside the test's folder and on a free loopback port, without a node agent.</summary>
    private string[] Server(params string[] extra)
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        return ["server", "--bind-address", "127.0.0.1", "--https-listen-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--write-kubeconfig", Path.Combine(_dir, "kubeconfig.yaml"), .. (extra.Contains("--container-runtime-endpoint") ? extra : [.. extra, "--disable-agent"])];
    }

    private static void AssertOneLineError((int ExitCode, string Output) result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Where(l => l.StartsWith("lotse: ", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains(expected, errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        var (exit, output) = await LotseProcess.RunAsync(Timeout, "--version");
        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Fact]
    public async Task Agent_WithoutServerAndToken_ExitsWithAClearMessage()
    {
        var (exit, output) = await LotseProcess.RunAsync(Timeout, "agent", "--data-dir", _dir);
        Assert.Equal(2, exit);
        Assert.Contains("--server https://HOST:6443 and --token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImagesImport_WithoutARunningAgent_FailsWithOneLine()
    {
        var result = await LotseProcess.RunAsync(Timeout, "images", "import", "--data-dir", _dir, Path.Combine(_dir, "x.tar"));
        AssertOneLineError(result, "no node agent's containerd at");
    }

    [Fact]
    public async Task Agent_UnreachableServer_FailsWithOneLine()
    {
        var result = await LotseProcess.RunAsync(Timeout, "agent", "--data-dir", _dir, "--server", "https://127.0.0.1:1", "--token", "K10" + new string('a', 64) + "::server:secret");
        AssertOneLineError(result, "cannot join https://127.0.0.1:1: cannot reach the server");
    }

    [Fact]
    public async Task Agent_MalformedRegistriesFile_FailsWithOneLineBeforeJoining()
    {
        var registries = Path.Combine(_dir, "registries.yaml");
        await File.WriteAllTextAsync(registries, "mirrors:\n  docker.io:\n    endpoint: {not: a list}\n");
        var result = await LotseProcess.RunAsync(Timeout, "agent", "--data-dir", _dir, "--server", "https://127.0.0.1:1", "--token", "K10" + new string('a', 64) + "::server:secret", "--private-registry", registries);
        AssertOneLineError(result, $"lotse: --private-registry {registries}: line 3: mirrors.\"docker.io\".endpoint must be a list of URLs");
        Assert.DoesNotContain("cannot join", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_MalformedRegistriesFile_FailsWithOneLineBeforeStarting()
    {
        var registries = Path.Combine(_dir, "registries.yaml");
        await File.WriteAllTextAsync(registries, "configs:\n  \"10.0.0.1:5000\":\n    auth: \"not base64!\"\n");
        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", _dir, "--container-runtime-endpoint", "unix://" + Path.Combine(_dir, "no-such.sock"), "--private-registry", registries));
        AssertOneLineError(result, $"lotse: --private-registry {registries}: line 3: configs.\"10.0.0.1:5000\".auth must be base64 of user:password");
        Assert.False(Directory.Exists(Path.Combine(_dir, "server")), "nothing starts before the flags are checked");
    }

    [Fact]
    public async Task Server_AgentWithADeadRuntime_FailsWithOneLine()
    {
        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", _dir, "--container-runtime-endpoint", "unix://" + Path.Combine(_dir, "no-such.sock")));
        AssertOneLineError(result, "the node agent could not start");
        Assert.Contains("--disable-agent", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_WithSchedulerAndControllersDisabled_SaysSo()
    {
        using var running = LotseProcess.Start(Server("--data-dir", _dir, "--disable-scheduler", "--disable-controller-manager"));
        Assert.True(await running.WaitForOutputAsync("Lotse server is running", Timeout), running.Output);
        Assert.Contains("Controllers and scheduler disabled", running.Output, StringComparison.Ordinal);
        running.Terminate();
        Assert.Equal(0, await running.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Server_StartsWritesStateAndStopsOnSigterm()
    {
        using var running = LotseProcess.Start(Server("--data-dir", _dir));
        Assert.True(await running.WaitForOutputAsync("Lotse server is running", Timeout), running.Output);
        Assert.True(File.Exists(Path.Combine(_dir, "server", "db", "state.db")));
        Assert.True(File.Exists(Path.Combine(_dir, "server", "tls", "server-ca.crt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "kubeconfig.yaml")));
        Assert.StartsWith("K10", await File.ReadAllTextAsync(Path.Combine(_dir, "server", "token")), StringComparison.Ordinal);
        Assert.Contains("Controllers and scheduler running", running.Output, StringComparison.Ordinal);
        running.Terminate();
        Assert.Equal(0, await running.WaitForExitAsync(Timeout));
        Assert.Contains("Lotse server stopped", running.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_CorruptDatabase_OneLineErrorAndFileUntouched()
    {
        var db = Path.Combine(_dir, "server", "db", "state.db");
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        var garbage = new byte[64 * 1024];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(db, garbage);
        var before = SHA256.HashData(garbage);

        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", _dir));

        AssertOneLineError(result, db);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(db)));
        Assert.False(File.Exists(db + "-wal") && new FileInfo(db + "-wal").Length > 0);
    }

    [Fact]
    public async Task Server_DataDirUnderAFile_OneLineError()
    {
        var file = Path.Combine(_dir, "plain-file");
        await File.WriteAllTextAsync(file, "x");
        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", Path.Combine(file, "data")));
        AssertOneLineError(result, file);
    }

    [Fact]
    public async Task Server_UnreachableEtcd_OneLineError()
    {
        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", _dir, "--datastore-endpoint", "http://127.0.0.1:1"));
        AssertOneLineError(result, "127.0.0.1:1");
    }

    [Fact]
    public async Task Server_UnsupportedEndpoint_OneLineError()
    {
        var result = await LotseProcess.RunAsync(Timeout, Server("--data-dir", _dir, "--datastore-endpoint", "postgres://db"));
        AssertOneLineError(result, "unsupported --datastore-endpoint");
    }

    [Fact]
    public async Task Server_BadConfigFile_OneLineError()
    {
        var config = Path.Combine(_dir, "config.yaml");
        await File.WriteAllTextAsync(config, "datastore-endpoint: [\n");
        var result = await LotseProcess.RunAsync(Timeout, Server("--config", config, "--data-dir", _dir));
        AssertOneLineError(result, config);
    }
}
