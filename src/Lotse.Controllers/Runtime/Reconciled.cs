namespace Lotse.Controllers.Runtime;

/// <summary>What a reconcile asks for next: nothing (done until the next event) or another look after a while.</summary>
public readonly record struct Reconciled(TimeSpan? RequeueAfter)
{
    public static Reconciled Done => default;

    public static Reconciled After(TimeSpan delay) => new(delay);
}
