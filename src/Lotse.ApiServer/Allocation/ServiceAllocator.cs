using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.Storage;

namespace Lotse.ApiServer.Allocation;

/// <summary>
/// Cluster IPs from the service range and node ports from 30000–32767, for Services. Each allocation is
/// its own key (<c>/registry/ipallocations/{ip}</c>, <c>/registry/nodeportallocations/{port}</c>) created
/// with the store's create-if-absent, so two concurrent creates — on one server or several — can never
/// get the same address. Kubernetes keeps a bitmap per range instead; the guarantee is the same.
/// </summary>
public sealed class ServiceAllocator : IObjectHooks
{
    private const string IpPrefix = "/registry/ipallocations/";
    private const string PortPrefix = "/registry/nodeportallocations/";
    private readonly IStore _store;
    private readonly BigInteger _network;
    private readonly BigInteger _size;
    private readonly bool _ipv6;
    private readonly (int First, int Last) _ports;

    public ServiceAllocator(IStore store, string serviceCidr, (int First, int Last) nodePorts)
    {
        _store = store;
        _ports = nodePorts;
        var (network, prefix) = ParseCidr(serviceCidr);
        var bytes = network.GetAddressBytes();
        _ipv6 = bytes.Length == 16;
        _network = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        _size = BigInteger.One << ((bytes.Length * 8) - prefix);
        if (_size < 4)
        {
            throw new StartupException($"--service-cluster-ip-range {serviceCidr} is too small");
        }
    }

    /// <summary>The first address of the range: the <c>kubernetes</c> service's cluster IP.</summary>
    public string FirstAddress => ToAddress(_network + 1);

    /// <summary>The first address of a CIDR (what the serving certificate names as the kubernetes service IP).</summary>
    public static string FirstAddressOf(string cidr)
    {
        var (network, _) = ParseCidr(cidr);
        var bytes = network.GetAddressBytes();
        return ToAddress(new BigInteger(bytes, isUnsigned: true, isBigEndian: true) + 1, bytes.Length);
    }

    public static (IPAddress Network, int Prefix) ParseCidr(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var address) || !int.TryParse(cidr[(slash + 1)..], out var prefix)
            || prefix < 0 || prefix > address.GetAddressBytes().Length * 8)
        {
            throw new StartupException($"invalid CIDR \"{cidr}\": expected an address and prefix length such as 10.43.0.0/16");
        }

        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return (new IPAddress(bytes), prefix);
    }

    private string ToAddress(BigInteger value) => ToAddress(value, _ipv6 ? 16 : 4);

    private static string ToAddress(BigInteger value, int length)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[length];
        bytes.AsSpan(Math.Max(0, bytes.Length - length)).CopyTo(padded.AsSpan(length - Math.Min(length, bytes.Length)));
        return new IPAddress(padded).ToString();
    }

    private bool InRange(string ip, out BigInteger offset)
    {
        offset = 0;
        if (!IPAddress.TryParse(ip, out var address) || (address.GetAddressBytes().Length == 16) != _ipv6)
        {
            return false;
        }

        offset = new BigInteger(address.GetAddressBytes(), isUnsigned: true, isBigEndian: true) - _network;
        return offset > 0 && offset < _size - 1;
    }

    /// <summary>Claims one specific address (the kubernetes service's, or a user's request).</summary>
    public async Task<bool> TryClaimIpAsync(string ip, string owner, CancellationToken cancellationToken)
    {
        var result = await _store.CreateAsync(IpPrefix + ip, Encoding.UTF8.GetBytes(owner), 0, cancellationToken);
        if (result.Succeeded)
        {
            return true;
        }

        // Already ours (a retried create, or the bootstrap running again) counts as claimed.
        return result.Current is { } current && Encoding.UTF8.GetString(current.Value) == owner;
    }

    private async Task<string> AllocateIpAsync(string owner, CancellationToken cancellationToken)
    {
        // Random probing: few collisions while the range is sparse; the store arbitrates every claim.
        var usable = _size - 2;
        var start = new BigInteger(RandomNumberGenerator.GetBytes(16), isUnsigned: true) % usable;
        for (var i = 0; i < 4096 && i < usable; i++)
        {
            var offset = ((start + i) % usable) + 1;
            var ip = ToAddress(_network + offset);
            if (await TryClaimIpAsync(ip, owner, cancellationToken))
            {
                return ip;
            }
        }

        throw StatusException.InternalError("failed to allocate a service IP: range is full");
    }

    private async Task<bool> TryClaimPortAsync(long port, string owner, CancellationToken cancellationToken)
    {
        var result = await _store.CreateAsync(PortPrefix + port, Encoding.UTF8.GetBytes(owner), 0, cancellationToken);
        return result.Succeeded || (result.Current is { } current && Encoding.UTF8.GetString(current.Value) == owner);
    }

    private async Task<long> AllocatePortAsync(string owner, CancellationToken cancellationToken)
    {
        var count = _ports.Last - _ports.First + 1;
        var start = RandomNumberGenerator.GetInt32(count);
        for (var i = 0; i < count; i++)
        {
            var port = _ports.First + ((start + i) % count);
            if (await TryClaimPortAsync(port, owner, cancellationToken))
            {
                return port;
            }
        }

        throw StatusException.InternalError("failed to allocate a node port: range is full");
    }

    private Task ReleaseAsync(string key) => _store.DeleteAsync(key, 0);

    public async Task<Func<Task>?> BeforeCreateAsync(string key, JsonObject obj, bool dryRun, CancellationToken cancellationToken) =>
        await AllocateAsync(key, obj, null, dryRun, cancellationToken);

    public async Task<Func<Task>?> BeforeUpdateAsync(string key, JsonObject obj, JsonObject old, bool dryRun, CancellationToken cancellationToken) =>
        await AllocateAsync(key, obj, old, dryRun, cancellationToken);

    public async Task AfterUpdateAsync(string key, JsonObject obj, JsonObject old, CancellationToken cancellationToken)
    {
        var kept = NodePorts(obj).ToHashSet();
        foreach (var port in NodePorts(old).Where(p => !kept.Contains(p)))
        {
            await ReleaseAsync(PortPrefix + port);
        }
    }

    public async Task AfterDeleteAsync(string key, JsonObject obj, CancellationToken cancellationToken)
    {
        foreach (var ip in ClusterIps(obj))
        {
            await ReleaseAsync(IpPrefix + ip);
        }

        foreach (var port in NodePorts(obj))
        {
            await ReleaseAsync(PortPrefix + port);
        }
    }

    private async Task<Func<Task>?> AllocateAsync(string key, JsonObject obj, JsonObject? old, bool dryRun, CancellationToken cancellationToken)
    {
        var spec = obj["spec"] as JsonObject;
        if (spec is null)
        {
            return null;
        }

        var type = spec["type"]?.ToString() ?? "ClusterIP";
        var claimed = new List<string>();
        async Task Undo()
        {
            foreach (var k in claimed)
            {
                await ReleaseAsync(k);
            }
        }

        try
        {
            if (type != "ExternalName" && old is null)
            {
                var requested = spec["clusterIP"]?.ToString();
                if (string.IsNullOrEmpty(requested))
                {
                    if (!dryRun)
                    {
                        var ip = await AllocateIpAsync(key, cancellationToken);
                        claimed.Add(IpPrefix + ip);
                        spec["clusterIP"] = ip;
                        spec["clusterIPs"] = new JsonArray(ip);
                    }
                }
                else if (requested != "None")
                {
                    if (!InRange(requested, out _))
                    {
                        throw Invalid(obj, "spec.clusterIPs[0]", requested, $"failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {ToAddress(_network)}/{CidrBits()}");
                    }

                    if (!dryRun)
                    {
                        if (!await TryClaimIpAsync(requested, key, cancellationToken))
                        {
                            throw Invalid(obj, "spec.clusterIPs[0]", requested, $"failed to allocate IP {requested}: provided IP is already allocated");
                        }

                        claimed.Add(IpPrefix + requested);
                    }

                    spec["clusterIPs"] = new JsonArray(requested);
                }
            }

            if (type is "NodePort" or "LoadBalancer" && spec["ports"] is JsonArray ports)
            {
                var held = old is null ? [] : NodePorts(old).ToHashSet();
                foreach (var port in ports.OfType<JsonObject>())
                {
                    if (port["nodePort"].AsInt64() is { } requestedPort && requestedPort != 0)
                    {
                        if (held.Contains(requestedPort))
                        {
                            continue;
                        }

                        if (requestedPort < _ports.First || requestedPort > _ports.Last)
                        {
                            throw Invalid(obj, "spec.ports[].nodePort", requestedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), $"provided port is not in the valid range. The range of valid ports is {_ports.First}-{_ports.Last}");
                        }

                        if (!dryRun)
                        {
                            if (!await TryClaimPortAsync(requestedPort, key, cancellationToken))
                            {
                                throw Invalid(obj, "spec.ports[].nodePort", requestedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "provided port is already allocated");
                            }

                            claimed.Add(PortPrefix + requestedPort);
                        }
                    }
                    else if (!dryRun)
                    {
                        var allocated = await AllocatePortAsync(key, cancellationToken);
                        claimed.Add(PortPrefix + allocated);
                        port["nodePort"] = allocated;
                    }
                }
            }
        }
        catch
        {
            await Undo();
            throw;
        }

        return claimed.Count == 0 ? null : Undo;
    }

    private int CidrBits() => (_ipv6 ? 128 : 32) - (int)BigInteger.Log(_size, 2);

    private static StatusException Invalid(JsonObject obj, string field, string value, string detail) =>
        StatusException.Invalid("", "Service", obj["metadata"]?["name"]?.ToString() ?? string.Empty,
            [FieldError.Invalid(FieldPath.Parse(field), value, detail)]);

    private static IEnumerable<string> ClusterIps(JsonObject obj)
    {
        var spec = obj["spec"] as JsonObject;
        var ips = (spec?["clusterIPs"] as JsonArray)?.Select(i => i?.ToString()).Where(i => !string.IsNullOrEmpty(i) && i != "None").Cast<string>().ToList() ?? [];
        if (ips.Count == 0 && spec?["clusterIP"]?.ToString() is { Length: > 0 } ip && ip != "None")
        {
            ips.Add(ip);
        }

        return ips;
    }

    private static IEnumerable<long> NodePorts(JsonObject obj) =>
        (obj["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>()
            .Select(p => p["nodePort"].AsInt64() is { } n ? n : 0)
            .Where(n => n > 0).Distinct() ?? [];
}
