namespace Lotse.Streaming.Http;

/// <summary>Copies two connections into each other until either side ends, then closes both.</summary>
public static class Relay
{
    public static async Task RunAsync(Stream a, Stream b, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var forward = CopyAsync(a, b, stop.Token);
        var backward = CopyAsync(b, a, stop.Token);
        await Task.WhenAny(forward, backward);
        await stop.CancelAsync();
        await Task.WhenAll(forward, backward);
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await to.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // One side went away: the relay is over.
        }
    }
}
