using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lotse.E2E.Tests;

/// <summary>
/// A private registry on this machine and a node agent told about it: Debian's
/// <c>docker-registry</c> on 127.0.0.1 (a free port, its own config and storage in a temporary
/// directory) with htpasswd basic auth over plain HTTP, the test busybox image pushed into it with
/// <c>skopeo</c>, and <c>lotse server</c> started with a <c>--private-registry</c> file that mirrors
/// made-up registry names to it:
/// <list type="bullet">
/// <item><c>mirror.lotse.test</c> → <c>http://127.0.0.1:PORT</c>, whose <c>configs</c> entry has the
/// credentials, and a rewrite <c>^team/(.*)</c> → <c>mirrored/$1</c>;</item>
/// <item>the registry itself as <c>localhost:PORT</c>, a host the file has no credentials for: only
/// an image pull secret gets a pod's image. (Not a made-up name: a failed pull through a mirror
/// falls back to the name's default endpoint, and a made-up name's DNS lookup would leave the
/// machine.)</item>
/// </list>
/// The registry process is stopped by its PID and the directory removed, also when a test failed.
/// </summary>
public sealed class PrivateRegistryFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "s3cret-lotse";
    public const string Mirrored = "mirror.lotse.test/busybox:1";
    public const string Rewritten = "mirror.lotse.test/team/busybox:1";
    private Process? _registry;
    private bool _disposed;

    public string Dir { get; } = Directory.CreateTempSubdirectory("lotse-registry-").FullName;

    public int Port { get; } = FreePort();

    /// <summary>The image by the registry's host name, which registries.yaml has no credentials for.</summary>
    public string Private => $"localhost:{Port}/busybox:1";

    private NodeAgentFixture? _node;

    public NodeAgentFixture Node => _node ?? throw new InvalidOperationException($"the node agent did not start: {Missing}");

    public string RegistryLog => Path.Combine(Dir, "registry.log");

    /// <summary>Why these tests cannot run here (null when they can).</summary>
    public static string? Missing =>
        NodeAgentFixture.Missing
        ?? (new[] { "/usr/bin/docker-registry", "/usr/bin/skopeo" }.FirstOrDefault(f => !File.Exists(f)) is { } absent ? $"{absent} is not installed (scripts/deps.sh installs it)" : null);

    public async Task InitializeAsync()
    {
        if (Missing is not null)
        {
            return;
        }

        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        await StartRegistryAsync();
        await PushAsync("busybox:1");
        await PushAsync("mirrored/busybox:1");
        var registries = Path.Combine(Dir, "registries.yaml");
        await File.WriteAllTextAsync(registries, $$"""
            mirrors:
              mirror.lotse.test:
                endpoint: ["http://127.0.0.1:{{Port}}"]
                rewrite:
                  "^team/(.*)": "mirrored/$1"
            configs:
              "127.0.0.1:{{Port}}":
                auth:
                  username: {{User}}
                  password: {{Password}}
            """);
        _node = new NodeAgentFixture("--private-registry", registries);
        await _node.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_node is not null)
            {
                await _node.DisposeAsync();
            }
        }
        finally
        {
            StopRegistry();
            if (Directory.Exists(Dir))
            {
                Directory.Delete(Dir, recursive: true);
            }
        }
    }

    private async Task StartRegistryAsync()
    {
        var hash = await RunAsync("python3", "-W", "ignore", "-c", "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", Password);
        await File.WriteAllTextAsync(Path.Combine(Dir, "htpasswd"), $"{User}:{hash.Trim()}\n");
        var config = Path.Combine(Dir, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log: {"{"} level: info {"}"}
            storage:
              filesystem: {"{"} rootdirectory: {Path.Combine(Dir, "data")} {"}"}
            http:
              addr: 127.0.0.1:{Port}
            auth:
              htpasswd:
                realm: lotse-test
                path: {Path.Combine(Dir, "htpasswd")}
            """);

        // exec: the PID is the registry's own, so stopping it by PID stops it.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in (string[])["-c", "exec /usr/bin/docker-registry serve \"$0\" >>\"$1\" 2>&1 </dev/null", config, RegistryLog])
        {
            start.ArgumentList.Add(arg);
        }

        _registry = Process.Start(start)!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{Port}/v2/");
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (_registry.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"docker-registry did not start:\n{await File.ReadAllTextAsync(RegistryLog)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Pushes the test busybox image, with /etc/pulled-from added, into the registry as <paramref name="name"/>.</summary>
    private async Task PushAsync(string name)
    {
        var archive = Path.Combine(Dir, "busybox.tar");
        if (!File.Exists(archive))
        {
            await using var file = File.Create(archive);
            // A layer of its own (not the busybox the node imports at start), so pulls fetch blobs.
            TestImages.Busybox().AddFile("etc/pulled-from", "the-private-registry\n"u8.ToArray(), (UnixFileMode)0b110_100_100).WriteArchive(file);
        }

        await RunAsync("/usr/bin/skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", $"{User}:{Password}", $"oci-archive:{archive}", $"docker://127.0.0.1:{Port}/{name}");
    }

    private void StopRegistry()
    {
        if (_registry is null)
        {
            return;
        }

        try
        {
            if (!_registry.HasExited)
            {
                _registry.Kill();
                _registry.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _registry.Dispose();
        }
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var (exit, output) = await HostCommands.RunAsync(file, args);
        return exit == 0 ? output : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({exit}): {output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
