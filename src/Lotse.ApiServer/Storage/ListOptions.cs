using Lotse.ApiServer.Selectors;

namespace Lotse.ApiServer.Storage;

/// <summary>A LIST or WATCH request's query: selectors, paging and resourceVersion semantics.</summary>
public sealed record ListOptions
{
    public LabelSelector? LabelSelector { get; init; }

    public FieldSelector? FieldSelector { get; init; }

    public int Limit { get; init; }

    public string? Continue { get; init; }

    /// <summary>Null/empty: most recent (consistent); "0": any (cache); N: at least N (NotOlderThan) or exactly N.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>NotOlderThan, Exact, or null.</summary>
    public string? ResourceVersionMatch { get; init; }
}
