using System.Globalization;
using k8s.Models;

namespace Lotse.Agent.Node;

/// <summary>
/// The kubelet's hard eviction thresholds (<c>--eviction-hard</c>, its syntax:
/// <c>memory.available&lt;100Mi,nodefs.available&lt;10%</c>): a signal below its threshold puts the
/// node under pressure. The defaults are the kubelet's on Linux; <c>pid.available</c> has none.
/// </summary>
public sealed record EvictionThresholds(IReadOnlyDictionary<string, EvictionThresholds.Threshold> Signals)
{
    public const string Default = "memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%";

    public static readonly string[] Known = ["memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree", "pid.available"];

    /// <summary>A quantity (bytes or a count) or a percentage of the capacity.</summary>
    public sealed record Threshold(long? Quantity, double? Percent)
    {
        public bool Crossed(long available, long capacity) =>
            Quantity is { } q ? available < q : capacity > 0 && available < capacity * Percent!.Value / 100;
    }

    /// <summary>Parses the flag's value; an <see cref="ArgumentException"/> names what is wrong.</summary>
    public static EvictionThresholds Parse(string text)
    {
        var signals = new Dictionary<string, Threshold>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var less = part.IndexOf('<', StringComparison.Ordinal);
            var signal = less > 0 ? part[..less] : part;
            if (less <= 0 || !Known.Contains(signal))
            {
                throw new ArgumentException($"--eviction-hard \"{part}\": expected SIGNAL<QUANTITY or SIGNAL<PERCENT% with SIGNAL one of {string.Join(", ", Known)}");
            }

            var value = part[(less + 1)..];
            signals[signal] = value.EndsWith('%')
                ? new Threshold(null, double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and <= 100 ? percent : throw new ArgumentException($"--eviction-hard \"{part}\": the percentage must be 0 to 100"))
                : new Threshold(ParseQuantity(part, value), null);
        }

        return new EvictionThresholds(signals);
    }

    private static long ParseQuantity(string part, string value)
    {
        try
        {
            return (long)new ResourceQuantity(value).ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new ArgumentException($"--eviction-hard \"{part}\": \"{value}\" is not a quantity");
        }
    }
}
