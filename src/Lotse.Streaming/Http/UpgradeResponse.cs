namespace Lotse.Streaming.Http;

/// <summary>
/// The answer to an upgrade request: its status and headers, and either the upgraded connection
/// (101) or the body of a refusal (read whole, at most 64 KiB).
/// </summary>
public sealed class UpgradeResponse : IAsyncDisposable
{
    public required int Status { get; init; }

    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    /// <summary>The upgraded connection when <see cref="Status"/> is 101.</summary>
    public Stream? Connection { get; init; }

    /// <summary>The body of a response that did not upgrade.</summary>
    public string Body { get; init; } = string.Empty;

    public IEnumerable<string> Values(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public async ValueTask DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }
    }
}
