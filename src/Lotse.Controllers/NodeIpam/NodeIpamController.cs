using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Lotse.Client.Informers;
using Lotse.Controllers.Runtime;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers.NodeIpam;

/// <summary>
/// Kubernetes' node IPAM controller (range allocator): every node gets its own pod range, a
/// /<c>maskSize</c> (24 by default) out of the cluster CIDR, on <c>spec.podCIDR</c> and
/// <c>spec.podCIDRs</c>; a node's range is free again once the node is gone. Ranges nodes already
/// carry are respected, so a restart never hands one out twice.
/// </summary>
public sealed partial class NodeIpamController : Controller
{
    private readonly IKubernetes _client;
    private readonly Informer<V1Node> _nodes;
    private readonly uint _base;
    private readonly int _maskSize;
    private readonly int _count;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string> _owners = [];
    private int _next;
    private bool _exhaustedReported;

    public NodeIpamController(InformerFactory informers, string clusterCidr, ILoggerFactory loggerFactory, TimeProvider? time = null, int maskSize = 24)
        : base("nodeipam", loggerFactory.CreateLogger<NodeIpamController>(), time)
    {
        var (network, prefix) = Parse(clusterCidr);
        if (maskSize < prefix || maskSize > 30)
        {
            throw new ArgumentException($"node CIDR mask size {maskSize} does not fit the cluster CIDR {clusterCidr}", nameof(maskSize));
        }

        _base = network;
        _maskSize = maskSize;
        _count = 1 << (maskSize - prefix);
        _client = informers.Client;
        _nodes = informers.Nodes();
        _nodes.AddHandler(new InformerHandler<V1Node>(
            onAdd: Observe,
            onUpdate: (_, node) => Observe(node),
            onDelete: node => Release(node.Metadata.Name)));
    }

    protected override IEnumerable<IInformer> Informers => [_nodes];

    protected override async Task<Reconciled> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var node = _nodes.Get(key);
        if (node is null || !string.IsNullOrEmpty(node.Spec?.PodCIDR))
        {
            return Reconciled.Done;
        }

        var index = Allocate(key);
        if (index < 0)
        {
            if (!_exhaustedReported)
            {
                _exhaustedReported = true;
                LogExhausted(Logger, key, _count);
            }

            return Reconciled.Done;
        }

        var cidr = Cidr(index);
        var patch = new JsonObject { ["spec"] = new JsonObject { ["podCIDR"] = cidr, ["podCIDRs"] = new JsonArray(cidr) } };
        try
        {
            await _client.CoreV1.PatchNodeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), key, cancellationToken: cancellationToken);
            LogAllocated(Logger, cidr, key);
        }
        catch
        {
            Release(key);
            throw;
        }

        return Reconciled.Done;
    }

    /// <summary>The range of block <paramref name="index"/>, e.g. 10.42.3.0/24.</summary>
    internal string Cidr(int index)
    {
        var address = _base + ((uint)index << (32 - _maskSize));
        return $"{new IPAddress([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address])}/{_maskSize}";
    }

    private void Observe(V1Node node)
    {
        var name = node.Metadata.Name;
        if (string.IsNullOrEmpty(node.Spec?.PodCIDR))
        {
            Queue.Add(name);
            return;
        }

        var (network, _) = Parse(node.Spec.PodCIDR);
        var index = (long)(network - _base) >> (32 - _maskSize);
        if (network < _base || index >= _count)
        {
            return; // set by hand outside the cluster CIDR
        }

        lock (_gate)
        {
            _owners[(int)index] = name;
        }
    }

    private int Allocate(string name)
    {
        lock (_gate)
        {
            foreach (var (index, owner) in _owners)
            {
                if (owner == name)
                {
                    return index;
                }
            }

            for (var i = 0; i < _count; i++)
            {
                var candidate = (_next + i) % _count;
                if (_owners.TryAdd(candidate, name))
                {
                    _next = (candidate + 1) % _count;
                    return candidate;
                }
            }

            return -1;
        }
    }

    private void Release(string name)
    {
        lock (_gate)
        {
            foreach (var index in _owners.Where(o => o.Value == name).Select(o => o.Key).ToList())
            {
                _owners.Remove(index);
            }
        }
    }

    internal static (uint Network, int Prefix) Parse(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], out var prefix) || prefix is < 0 or > 32)
        {
            throw new ArgumentException($"\"{cidr}\" is not an IPv4 CIDR", nameof(cidr));
        }

        var bytes = address.GetAddressBytes();
        var value = ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return (value & mask, prefix);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node}: pod CIDR {Cidr}")]
    private static partial void LogAllocated(ILogger logger, string cidr, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: no pod CIDR left (all {Count} ranges of the cluster CIDR are in use)")]
    private static partial void LogExhausted(ILogger logger, string node, int count);
}
