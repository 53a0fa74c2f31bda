namespace Lotse.Client.Informers;

/// <summary>Told about each change an informer sees; implementations compute a key and enqueue it.</summary>
public interface IInformerHandler<in T>
{
    void OnAdd(T obj);

    void OnUpdate(T old, T current);

    void OnDelete(T obj);
}

/// <summary>A handler from three delegates (any may be left out).</summary>
public sealed class InformerHandler<T>(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null) : IInformerHandler<T>
{
    public void OnAdd(T obj) => onAdd?.Invoke(obj);

    public void OnUpdate(T old, T current) => onUpdate?.Invoke(old, current);

    public void OnDelete(T obj) => onDelete?.Invoke(obj);
}

public static class InformerHandler
{
    /// <summary>A handler that maps every change of an object to the same action (the common case: enqueue its key or its owner's).</summary>
    public static InformerHandler<T> ForAll<T>(Action<T> action) => new(action, (_, current) => action(current), action);
}
