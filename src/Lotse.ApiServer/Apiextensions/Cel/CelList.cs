using System.Collections;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// A CEL list over an array that charges the running evaluation's <see cref="CostBudget"/> for
/// every element read, so a comprehension over request data cannot run unbounded. The Cel package
/// treats any <see cref="IList"/> as a list (index, size, in, ==, +, macros).
/// </summary>
public sealed class CelList(object?[] items) : IList, IList<object?>, IReadOnlyList<object?>
{
    public int Count => items.Length;

    public bool IsReadOnly => true;

    public bool IsFixedSize => true;

    public bool IsSynchronized => false;

    public object SyncRoot => items;

    public object? this[int index]
    {
        get
        {
            CostBudget.ChargeCurrent(1);
            return items[index];
        }

        set => throw new NotSupportedException();
    }

    public IEnumerator<object?> GetEnumerator()
    {
        foreach (var item in items)
        {
            CostBudget.ChargeCurrent(1);
            yield return item;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Contains(object? item)
    {
        CostBudget.ChargeCurrent(items.Length);
        return items.Contains(item);
    }

    public int IndexOf(object? item)
    {
        CostBudget.ChargeCurrent(items.Length);
        return Array.IndexOf(items, item);
    }

    public void CopyTo(object?[] array, int arrayIndex)
    {
        CostBudget.ChargeCurrent(items.Length);
        items.CopyTo(array, arrayIndex);
    }

    public void CopyTo(Array array, int index)
    {
        CostBudget.ChargeCurrent(items.Length);
        items.CopyTo(array, index);
    }

    public int Add(object? value) => throw new NotSupportedException();

    public void Clear() => throw new NotSupportedException();

    public void Insert(int index, object? value) => throw new NotSupportedException();

    public bool Remove(object? item) => throw new NotSupportedException();

    void IList.Remove(object? value) => throw new NotSupportedException();

    public void RemoveAt(int index) => throw new NotSupportedException();

    bool IList.Contains(object? value) => Contains(value);

    int IList.IndexOf(object? value) => IndexOf(value);

    void ICollection<object?>.Add(object? item) => throw new NotSupportedException();
}
