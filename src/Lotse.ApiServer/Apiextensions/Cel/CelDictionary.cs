namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// A CEL map or object. The Cel package selects fields only on <see cref="Dictionary{TKey, TValue}"/>
/// of string keys, hence the base class; the key collection is re-implemented so that iterating a
/// map's keys in a comprehension charges the running evaluation's <see cref="CostBudget"/>.
/// </summary>
public sealed class CelDictionary : Dictionary<string, object?>, IDictionary<string, object?>
{
    public CelDictionary()
        : base(StringComparer.Ordinal)
    {
    }

    ICollection<string> IDictionary<string, object?>.Keys
    {
        get
        {
            CostBudget.ChargeCurrent(Count);
            return Keys;
        }
    }
}
