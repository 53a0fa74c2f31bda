using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Registry;

/// <summary>
/// Several hooks on one kind, run in order (as kube-apiserver runs its admission plugins): when one
/// refuses a write, what the ones before it allocated is undone.
/// </summary>
public sealed class HookChain(params IObjectHooks[] hooks) : IObjectHooks
{
    public Task<Func<Task>?> BeforeCreateAsync(string key, JsonObject obj, bool dryRun, CancellationToken cancellationToken) =>
        RunAsync(h => h.BeforeCreateAsync(key, obj, dryRun, cancellationToken));

    public Task<Func<Task>?> BeforeUpdateAsync(string key, JsonObject obj, JsonObject old, bool dryRun, CancellationToken cancellationToken) =>
        RunAsync(h => h.BeforeUpdateAsync(key, obj, old, dryRun, cancellationToken));

    public async Task AfterUpdateAsync(string key, JsonObject obj, JsonObject old, CancellationToken cancellationToken)
    {
        foreach (var hook in hooks)
        {
            await hook.AfterUpdateAsync(key, obj, old, cancellationToken);
        }
    }

    public async Task AfterDeleteAsync(string key, JsonObject obj, CancellationToken cancellationToken)
    {
        foreach (var hook in hooks)
        {
            await hook.AfterDeleteAsync(key, obj, cancellationToken);
        }
    }

    private async Task<Func<Task>?> RunAsync(Func<IObjectHooks, Task<Func<Task>?>> before)
    {
        var undos = new List<Func<Task>>();
        try
        {
            foreach (var hook in hooks)
            {
                if (await before(hook) is { } undo)
                {
                    undos.Add(undo);
                }
            }
        }
        catch
        {
            await UndoAsync(undos);
            throw;
        }

        return undos.Count == 0 ? null : () => UndoAsync(undos);
    }

    private static async Task UndoAsync(List<Func<Task>> undos)
    {
        for (var i = undos.Count - 1; i >= 0; i--)
        {
            await undos[i]();
        }
    }
}
