namespace Lotse.Agent.Hollow;

/// <summary>How many simulated nodes to run and how they behave (a test instrument, never a default).</summary>
public sealed record HollowNodeOptions
{
    public int Count { get; init; } = 1;

    /// <summary>Node names are this prefix and the index: <c>hollow-node-0</c>, …</summary>
    public string NamePrefix { get; init; } = "hollow-node-";

    public string Cpu { get; init; } = "4";

    public string Memory { get; init; } = "16Gi";

    public int Pods { get; init; } = 110;

    public TimeSpan LeaseInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after binding a pod is reported running.</summary>
    public TimeSpan PodStartDelay { get; init; } = TimeSpan.FromMilliseconds(5);
}
