namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// What one object's rules may spend (kube's RuntimeCELCostBudget per object, PerCallLimit per
/// rule). The Cel package has no cost tracking of its own, so the cost here counts what can grow
/// with the data: every list element or map key a rule visits, every match and every list a library
/// function builds. Charging past a limit throws <see cref="CostExceededException"/>; because the
/// package's macros swallow some exceptions, the budget also remembers that it ran out, and the
/// validator reads that after the evaluation whatever the result was.
/// </summary>
/// <remarks>
/// Evaluation is synchronous, so the budget of the evaluation running on a thread is kept in a
/// thread-static slot for the library functions, which the package calls without a context.
/// </remarks>
public sealed class CostBudget(long total, long perCall)
{
    /// <summary>kube's celconfig.RuntimeCELCostBudget.</summary>
    public const long RuntimeCostBudget = 10_000_000;

    /// <summary>kube's celconfig.PerCallLimit.</summary>
    public const long PerCallLimit = 1_000_000;

    [ThreadStatic]
    private static CostBudget? _current;

    private long _call;

    public static CostBudget? Current => _current;

    public long Remaining { get; private set; } = total;

    /// <summary>Set once a rule spent more than one call may.</summary>
    public bool CallLimitExceeded { get; private set; }

    /// <summary>Set once the object's rules together spent more than the object may.</summary>
    public bool TotalExceeded { get; private set; }

    /// <summary>Set when no further rule of the object may run (kube's negative remaining budget).</summary>
    public bool Stopped { get; set; }

    /// <summary>Starts one rule's evaluation on this thread; dispose to end it.</summary>
    public Scope Enter()
    {
        _call = perCall;
        CallLimitExceeded = false;
        var previous = _current;
        _current = this;
        return new Scope(previous);
    }

    public void Charge(long cost)
    {
        _call -= cost;
        Remaining -= cost;
        if (_call < 0)
        {
            CallLimitExceeded = true;
            throw new CostExceededException();
        }

        if (Remaining < 0)
        {
            TotalExceeded = true;
            throw new CostExceededException();
        }
    }

    /// <summary>Charges the budget of the evaluation running on this thread, if any.</summary>
    public static void ChargeCurrent(long cost) => _current?.Charge(cost);

    public readonly struct Scope(CostBudget? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
