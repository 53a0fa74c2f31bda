using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Lotse.Streaming.Http;

/// <summary>
/// The client half of an HTTP/1.1 upgrade (SPDY/3.1 or WebSocket) over a connection the caller
/// opened: writes the request head, reads the response head, and hands back the connection for
/// the new protocol (with any bytes read past the head put back in front).
/// </summary>
public static class UpgradeClient
{
    private const int MaxHead = 64 * 1024;

    /// <summary>Opens a plain TCP connection to <paramref name="url"/>'s host and upgrades it (a CRI streaming server on loopback).</summary>
    public static async Task<UpgradeResponse> ConnectAsync(Uri url, string method, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        if (url.Scheme != "http")
        {
            throw new IOException($"streaming URL {url} is not plain HTTP");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(url.Host, url.Port, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return await SendAsync(new NetworkStream(socket, ownsSocket: true), method, url.PathAndQuery, url.Authority, headers, cancellationToken);
    }

    /// <summary>Writes the request head to <paramref name="connection"/> and reads the answer; the connection is owned by the result (or disposed on failure).</summary>
    public static async Task<UpgradeResponse> SendAsync(Stream connection, string method, string pathAndQuery, string host, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        try
        {
            var head = new StringBuilder();
            head.Append(CultureInfo.InvariantCulture, $"{method} {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\n");
            foreach (var (name, value) in headers)
            {
                if (name.Contains('\n', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal) || name.Contains('\r', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal))
                {
                    throw new ArgumentException($"header {name} holds a line break");
                }

                head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
            }

            if (method is "POST" or "PUT")
            {
                head.Append("Content-Length: 0\r\n");
            }

            head.Append("\r\n");
            await connection.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancellationToken);
            await connection.FlushAsync(cancellationToken);
            return await ReadResponseAsync(connection, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<UpgradeResponse> ReadResponseAsync(Stream connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var filled = 0;
        int end;
        while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxHead)
                {
                    throw new IOException("the upgrade response head is too large");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = await connection.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                throw new IOException("the connection closed before the upgrade response");
            }

            filled += read;
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new IOException($"not an HTTP response: {lines[0]}");
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(KeyValuePair.Create(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        var rest = buffer.AsMemory(end + 4, filled - end - 4);
        if (status == 101)
        {
            return new UpgradeResponse { Status = status, Headers = headers, Connection = new PrefixedStream(rest.ToArray(), connection) };
        }

        var body = await ReadBodyAsync(rest, connection, headers, cancellationToken);
        await connection.DisposeAsync();
        return new UpgradeResponse { Status = status, Headers = headers, Body = body };
    }

    /// <summary>The body of a refusal: by Content-Length, else until the peer closes; at most 64 KiB.</summary>
    private static async Task<string> ReadBodyAsync(ReadOnlyMemory<byte> start, Stream connection, List<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var length = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(h => long.TryParse(h.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1).FirstOrDefault(-1);
        var limit = (int)Math.Min(length < 0 ? MaxHead : length, MaxHead);
        var body = new byte[limit];
        var filled = Math.Min(start.Length, limit);
        start[..filled].CopyTo(body);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            while (filled < limit)
            {
                var read = await connection.ReadAsync(body.AsMemory(filled), timeout.Token);
                if (read == 0)
                {
                    break;
                }

                filled += read;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A peer that neither says how long its body is nor closes: what came is the answer.
        }

        return Encoding.UTF8.GetString(body, 0, filled);
    }
}
