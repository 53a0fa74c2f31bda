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
/// The Cel package is an interpreter that walks the parse tree on every evaluation (a few
/// microseconds per visited element), so step counts alone would let one rule run for seconds
/// before its limit; a wall-clock cap per object (<see cref="TimeLimit"/>, checked every 256
/// charges) stops it earlier, reported like the per-call limit.
/// Evaluation is synchronous, so the budget of the evaluation running on a thread is kept in a
/// thread-static slot for the library functions, which the package calls without a context.
/// </remarks>
public sealed class CostBudget(long total, long perCall)
{
    /// <summary>The most wall-clock time one object's rules may take together.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>kube's celconfig.RuntimeCELCostBudget.</summary>
    public const long RuntimeCostBudget = 10_000_000;

    /// <summary>kube's celconfig.PerCallLimit.</summary>
    public const long PerCallLimit = 1_000_000;

    [ThreadStatic]
    private static CostBudget? _current;

    private readonly long _deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(TimeLimit.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    private long _call;
    private long _charges;
    private bool _late;

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

        if (_late || ((++_charges & 255) == 0 && System.Diagnostics.Stopwatch.GetTimestamp() > _deadline))
        {
            // Sticky, like the step limits: the package's macros swallow the first throw and go on.
            _late = true;
            CallLimitExceeded = true;
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
