using k8s.Models;

namespace Lotse.Scheduler.Framework;

/// <summary>An amount of the resources the scheduler counts: CPU in millicores, memory and ephemeral storage in bytes, pods, and extended resources.</summary>
public sealed record Resources(long MilliCpu, long Memory, long EphemeralStorage, long Pods, IReadOnlyDictionary<string, long> Extended)
{
    private static readonly Dictionary<string, long> NoExtended = [];

    public static readonly Resources Zero = new(0, 0, 0, 0, NoExtended);

    public static Resources From(IDictionary<string, ResourceQuantity>? quantities, long pods = 0)
    {
        if (quantities is null)
        {
            return Zero with { Pods = pods };
        }

        Dictionary<string, long>? extended = null;
        long cpu = 0, memory = 0, storage = 0;
        foreach (var (name, quantity) in quantities)
        {
            switch (name)
            {
                case "cpu":
                    cpu = (long)Math.Ceiling(quantity.ToDecimal() * 1000);
                    break;
                case "memory":
                    memory = (long)Math.Ceiling(quantity.ToDecimal());
                    break;
                case "ephemeral-storage":
                    storage = (long)Math.Ceiling(quantity.ToDecimal());
                    break;
                case "pods":
                    pods = (long)quantity.ToDecimal();
                    break;
                default:
                    if (name.Contains('/', StringComparison.Ordinal) || name.StartsWith("hugepages-", StringComparison.Ordinal))
                    {
                        extended ??= new Dictionary<string, long>(StringComparer.Ordinal);
                        extended[name] = (long)Math.Ceiling(quantity.ToDecimal());
                    }

                    break;
            }
        }

        return new Resources(cpu, memory, storage, pods, extended ?? NoExtended);
    }

    public Resources Plus(Resources other) => new(
        MilliCpu + other.MilliCpu,
        Memory + other.Memory,
        EphemeralStorage + other.EphemeralStorage,
        Pods + other.Pods,
        Merge(Extended, other.Extended, (a, b) => a + b));

    public Resources Minus(Resources other) => new(
        MilliCpu - other.MilliCpu,
        Memory - other.Memory,
        EphemeralStorage - other.EphemeralStorage,
        Pods - other.Pods,
        Merge(Extended, other.Extended, (a, b) => a - b));

    /// <summary>The larger of each resource (an init container runs alone, so it needs only as much as the largest).</summary>
    public Resources Max(Resources other) => new(
        Math.Max(MilliCpu, other.MilliCpu),
        Math.Max(Memory, other.Memory),
        Math.Max(EphemeralStorage, other.EphemeralStorage),
        Math.Max(Pods, other.Pods),
        Merge(Extended, other.Extended, Math.Max));

    private static IReadOnlyDictionary<string, long> Merge(IReadOnlyDictionary<string, long> a, IReadOnlyDictionary<string, long> b, Func<long, long, long> combine)
    {
        if (b.Count == 0)
        {
            return a; // the common case, without an allocation
        }

        var result = new Dictionary<string, long>(a, StringComparer.Ordinal);
        foreach (var (name, value) in b)
        {
            result[name] = combine(result.GetValueOrDefault(name), value);
        }

        return result;
    }
}
