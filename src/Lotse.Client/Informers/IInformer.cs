namespace Lotse.Client.Informers;

/// <summary>What a controller host needs of any informer: run it, and know when its cache is filled.</summary>
public interface IInformer
{
    string Kind { get; }

    /// <summary>Completes when the first list has been loaded into the cache.</summary>
    Task Synced { get; }

    Task RunAsync(CancellationToken cancellationToken);
}
