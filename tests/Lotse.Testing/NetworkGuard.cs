namespace Lotse.Testing;

/// <summary>
/// Keeps test traffic on this machine: the pod and service ranges get local catch-all routes (so
/// unrouted cluster addresses never follow the default route), and nftables drops anything
/// forwarded out of the uplink and any packet for a private range leaving through it (except the
/// machine's DNS resolvers). Removed on dispose; routes that were there before stay.
/// </summary>
public sealed class NetworkGuard : IAsyncDisposable
{
    private const string Table = "lotse_e2e_guard";
    private readonly List<string[]> _undo = [];

    public async Task InstallAsync()
    {
        var (_, route) = await HostCommands.RunAsync("ip", "-4", "route", "show", "default");
        var fields = route.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var dev = Array.IndexOf(fields, "dev");
        var uplink = dev >= 0 && dev + 1 < fields.Length ? fields[dev + 1] : null;
        if (uplink is not null)
        {
            var resolvers = File.Exists("/etc/resolv.conf")
                ? File.ReadLines("/etc/resolv.conf").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 1 && f[0] == "nameserver" && System.Net.IPAddress.TryParse(f[1], out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Select(f => f[1]).ToList()
                : [];
            var except = resolvers.Count > 0 ? $"ip daddr != {{ {string.Join(", ", resolvers)} }}" : string.Empty;
            const string Private = "{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16 }";
            var rules = $$"""
                table inet {{Table}} {
                  chain output {
                    type filter hook output priority -300; policy accept;
                    oifname "{{uplink}}" ip daddr {{Private}} {{except}} drop
                  }
                  chain forward {
                    type filter hook forward priority -300; policy accept;
                    oifname "{{uplink}}" drop
                  }
                }
                """;
            var file = Path.GetTempFileName();
            await File.WriteAllTextAsync(file, rules);
            var (code, output) = await HostCommands.RunAsync("nft", "-f", file);
            File.Delete(file);
            if (code != 0)
            {
                throw new InvalidOperationException($"network guard: nft failed: {output}");
            }

            _undo.Add(["nft", "delete", "table", "inet", Table]);
        }

        foreach (var range in new[] { "10.42.0.0/16", "10.43.0.0/16" })
        {
            var (_, existing) = await HostCommands.RunAsync("ip", "-4", "route", "show", range);
            if (existing.Length == 0)
            {
                var (code, output) = await HostCommands.RunAsync("ip", "route", "add", "unreachable", range);
                if (code != 0)
                {
                    throw new InvalidOperationException($"network guard: route for {range} failed: {output}");
                }

                _undo.Add(["ip", "route", "del", "unreachable", range]);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in Enumerable.Reverse(_undo))
        {
            await HostCommands.RunAsync(command[0], command[1..]);
        }

        _undo.Clear();
    }
}
