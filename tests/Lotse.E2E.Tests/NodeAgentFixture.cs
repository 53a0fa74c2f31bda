using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;

namespace Lotse.E2E.Tests;

/// <summary>
/// A real <c>lotse server</c> with its node agent: containerd from the system package, the pause
/// image the agent builds, and a busybox image the fixture builds from Debian's busybox-static
/// (no registry, no internet). Before anything starts, a network guard makes sure no pod packet
/// can leave the machine; afterwards every pod, container, bridge, route and table it made is
/// removed, also when a test failed.
/// </summary>
public sealed class NodeAgentFixture : IAsyncLifetime
{
    public const string NodeName = "e2e-node";
    public const string Busybox = TestImages.BusyboxReference;
    private readonly string[] _extraArgs = [];
    private HostState? _host;

    public NodeAgentFixture()
    {
    }

    /// <summary>A fixture whose server starts with more flags (fixtures that wrap this one).</summary>
    internal NodeAgentFixture(params string[] extraArgs) => _extraArgs = extraArgs;

    public LotseServerProcess Server { get; } = new(agent: true);

    public NetworkGuard Guard { get; } = new();

    /// <summary>Why the node-agent tests cannot run on this machine (null when they can).</summary>
    public static string? Missing => TestImages.Missing;

    public string ContainerdSocket => Path.Combine(Server.DataDir, "agent", "containerd", "containerd.sock");

    public string ContainerdPidFile => Path.Combine(Server.DataDir, "agent", "containerd", "containerd.pid");

    public async Task InitializeAsync()
    {
        if (Missing is not null)
        {
            return;
        }

        _host = HostState.Capture();
        await Guard.InstallAsync();
        await TestImages.WriteBusyboxAsync(Server.DataDir);
        Directory.CreateDirectory(ManifestDir);
        await Server.StartAsync(["--node-name", NodeName, "--pod-manifest-path", ManifestDir, .. _extraArgs]);
    }

    /// <summary>The node's <c>--pod-manifest-path</c> (static pods).</summary>
    public string ManifestDir => Path.Combine(Server.DataDir, "manifests");

    public Kubectl Kubectl(string version = "1.33")
    {
        var cache = Path.Combine(Server.DataDir, "kubectl-cache-" + version + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(cache);
        return new Kubectl(E2E.Tests.Kubectl.PathOf(version), Server.Kubeconfig, cache);
    }

    public CriClient Cri() => new(ContainerdSocket);

    public async Task DisposeAsync()
    {
        if (Missing is not null)
        {
            await Server.DisposeAsync();
            return;
        }

        try
        {
            // Pods first, through the API: the agent stops and removes their containers and sandboxes.
            await Kubectl().RunAsync("delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--timeout=60s");
            await RemoveLeftoverSandboxesAsync();
        }
        finally
        {
            await Server.StopAsync();
            HostCommands.UnmountUnder(Server.DataDir);
            await Server.DisposeAsync();
            if (_host is not null)
            {
                await _host.RestoreAsync();
            }

            await Guard.DisposeAsync();
        }
    }

    private async Task RemoveLeftoverSandboxesAsync()
    {
        if (!File.Exists(ContainerdSocket))
        {
            return;
        }

        using var cri = Cri();
        var sandboxes = await cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        foreach (var sandbox in sandboxes.Items)
        {
            try
            {
                await cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id });
                await cri.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox.Id });
            }
            catch (Grpc.Core.RpcException)
            {
                // The agent removed it meanwhile (NotFound), or was still tearing it down: the host
                // clean-up that follows removes what is left.
            }
        }
    }
}
