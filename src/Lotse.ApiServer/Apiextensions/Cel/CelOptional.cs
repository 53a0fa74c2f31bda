namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// <c>oldSelf</c> of a rule with <c>optionalOldSelf: true</c>: a CEL optional, with
/// <c>hasValue()</c>, <c>value()</c> and <c>orValue(v)</c>.
/// </summary>
public sealed record CelOptional(bool HasValue, object? Value)
{
    public static readonly CelOptional None = new(false, null);
}
