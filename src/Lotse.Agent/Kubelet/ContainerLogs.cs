using System.Globalization;
using System.Text;

namespace Lotse.Agent.Kubelet;

/// <summary>What <c>kubectl logs</c> asks for (the pods/log query parameters).</summary>
internal sealed record LogOptions
{
    public bool Follow { get; init; }

    public long? TailLines { get; init; }

    public bool Timestamps { get; init; }

    public DateTimeOffset? Since { get; init; }

    public long? LimitBytes { get; init; }
}

/// <summary>
/// Reads container logs in the CRI format containerd writes — one entry per line:
/// <c>&lt;RFC3339Nano time&gt; &lt;stdout|stderr&gt; &lt;P|F&gt; &lt;text&gt;</c>, P marking a partial line
/// continued by the next entry — and writes what the kubelet would answer: the text, optionally
/// prefixed with its timestamp, filtered by time, the last N lines, at most N bytes, following the
/// file while the container runs.
/// </summary>
internal static class ContainerLogs
{
    /// <summary>One parsed entry; false for a line that is not in CRI format.</summary>
    public static bool TryParse(string line, out DateTimeOffset time, out string stream, out bool partial, out string text)
    {
        time = default;
        stream = string.Empty;
        partial = false;
        text = string.Empty;
        var first = line.IndexOf(' ', StringComparison.Ordinal);
        var second = first < 0 ? -1 : line.IndexOf(' ', first + 1);
        var third = second < 0 ? -1 : line.IndexOf(' ', second + 1);
        if (third < 0 && second > 0 && line.Length > second + 1)
        {
            third = line.Length; // an empty text
        }

        if (third < 0 || !DateTimeOffset.TryParse(line.AsSpan(0, first), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
        {
            return false;
        }

        stream = line[(first + 1)..second];
        var tag = line[(second + 1)..third];
        partial = tag == "P";
        text = third < line.Length ? line[(third + 1)..] : string.Empty;
        return true;
    }

    /// <summary>Writes the log file's entries to <paramref name="output"/>; with Follow, keeps going while <paramref name="running"/> says so.</summary>
    public static async Task WriteAsync(string path, LogOptions options, Stream output, Func<Task<bool>> running, CancellationToken cancellationToken)
    {
        long written = 0;
        var limit = options.LimitBytes ?? long.MaxValue;
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(file, Encoding.UTF8);

        // The lines already there: filtered, and cut to the last N when asked.
        var lines = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (Render(line, options) is { } rendered)
            {
                lines.Add(rendered);
            }
        }

        var start = options.TailLines is { } tail ? Math.Max(0, lines.Count - (int)Math.Min(tail, int.MaxValue)) : 0;
        foreach (var rendered in lines.Skip(start))
        {
            if (!await EmitAsync(rendered))
            {
                return;
            }
        }

        await output.FlushAsync(cancellationToken);
        if (!options.Follow)
        {
            return;
        }

        var lastCheck = DateTime.UtcNow;
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = await reader.ReadLineAsync(cancellationToken);
            if (next is not null)
            {
                if (Render(next, options) is { } rendered && !await EmitAsync(rendered))
                {
                    return;
                }

                await output.FlushAsync(cancellationToken);
                continue;
            }

            if (DateTime.UtcNow - lastCheck > TimeSpan.FromSeconds(1))
            {
                lastCheck = DateTime.UtcNow;
                if (!await running())
                {
                    // Drain what the container wrote before it stopped, then end the stream.
                    while (await reader.ReadLineAsync(cancellationToken) is { } last)
                    {
                        if (Render(last, options) is { } rendered && !await EmitAsync(rendered))
                        {
                            return;
                        }
                    }

                    await output.FlushAsync(cancellationToken);
                    return;
                }
            }

            await Task.Delay(100, cancellationToken);
        }

        async Task<bool> EmitAsync(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var room = limit - written;
            if (room <= 0)
            {
                return false;
            }

            var count = (int)Math.Min(bytes.Length, room);
            await output.WriteAsync(bytes.AsMemory(0, count), cancellationToken);
            written += count;
            return written < limit;
        }
    }

    /// <summary>The text of one entry as the kubelet returns it (null when filtered out).</summary>
    internal static string? Render(string line, LogOptions options)
    {
        if (!TryParse(line, out var time, out _, out var partial, out var text))
        {
            return null;
        }

        if (options.Since is { } since && time < since)
        {
            return null;
        }

        var newline = partial ? string.Empty : "\n";
        // Timestamps as the runtime wrote them (RFC 3339 with nanoseconds), as the kubelet passes them on.
        return options.Timestamps ? $"{line[..line.IndexOf(' ', StringComparison.Ordinal)]} {text}{newline}" : text + newline;
    }
}
