using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Lotse.Streaming.Spdy;

/// <summary>
/// The client side of a SPDY/3 session (the framing Kubernetes' streaming protocols use, as Go's
/// spdystream speaks it): streams opened with SYN_STREAM and a header block, DATA frames with FIN
/// for half-close, PINGs answered, RST_STREAM and GOAWAY honoured. Header blocks are zlib-compressed
/// as one stream per session, each block sync-flushed; this side sets no preset dictionary (the
/// zlib header says so, and a reader with the SPDY dictionary reads it all the same). The peer's
/// header blocks are not needed and not decoded: a client of the streaming server learns all it
/// needs from stream ids.
/// </summary>
public sealed class SpdyClient : IAsyncDisposable
{
    public const int Version = 3;
    public const byte FlagFin = 0x01;
    public const int MaxFrame = 16 * 1024 * 1024 - 1;
    private const int DataChunk = 32 * 1024;
    private readonly Stream _connection;
    private readonly Func<int, ReadOnlyMemory<byte>, CancellationToken, ValueTask> _onData;
    private readonly Action<int> _onEnd;
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly MemoryStream _compressed = new();
    private readonly ZLibStream _compressor;
    private int _nextStream = 1;

    /// <param name="onData">Called with each DATA frame's stream id and bytes, in order; the session reads on once it returns.</param>
    /// <param name="onEnd">Called when the peer ends a stream (FIN or RST_STREAM).</param>
    public SpdyClient(Stream connection, Func<int, ReadOnlyMemory<byte>, CancellationToken, ValueTask> onData, Action<int> onEnd)
    {
        _connection = connection;
        _onData = onData;
        _onEnd = onEnd;
        _compressor = new ZLibStream(_compressed, CompressionLevel.Fastest, leaveOpen: true);
    }

    /// <summary>Opens a stream carrying <paramref name="headers"/> (names are sent lower-case, as SPDY wants); returns its id.</summary>
    public async Task<int> OpenStreamAsync(IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        await _write.WaitAsync(cancellationToken);
        try
        {
            var id = _nextStream;
            _nextStream += 2;
            var block = Compress(HeaderBlock.Encode(headers));
            var payload = new byte[10 + block.Length];
            BinaryPrimitives.WriteInt32BigEndian(payload, id);
            block.CopyTo(payload.AsSpan(10));
            await WriteControlAsync(SpdyFrameType.SynStream, 0, payload, cancellationToken);
            return id;
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Sends bytes on a stream, in frames of at most 32 KiB.</summary>
    public async Task WriteAsync(int stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < data.Length; offset += DataChunk)
        {
            await WriteDataAsync(stream, data.Slice(offset, Math.Min(DataChunk, data.Length - offset)), 0, cancellationToken);
        }
    }

    /// <summary>Half-closes a stream: an empty DATA frame with FIN.</summary>
    public Task CloseStreamAsync(int stream, CancellationToken cancellationToken) => WriteDataAsync(stream, ReadOnlyMemory<byte>.Empty, FlagFin, cancellationToken);

    /// <summary>Reads frames until the peer closes the connection or says GOAWAY; a malformed frame ends the session with an <see cref="InvalidDataException"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var head = new byte[8];
        while (await ReadExactlyOrEndAsync(head, cancellationToken))
        {
            var length = (head[5] << 16) | (head[6] << 8) | head[7];
            var flags = head[4];
            var payload = length == 0 ? [] : new byte[length];
            if (length > 0 && !await ReadExactlyOrEndAsync(payload, cancellationToken))
            {
                throw new InvalidDataException("the SPDY connection ended inside a frame");
            }

            if ((head[0] & 0x80) == 0)
            {
                var stream = BinaryPrimitives.ReadInt32BigEndian(head) & 0x7fffffff;
                if (length > 0)
                {
                    await _onData(stream, payload, cancellationToken);
                }

                if ((flags & FlagFin) != 0)
                {
                    _onEnd(stream);
                }

                continue;
            }

            var version = ((head[0] & 0x7f) << 8) | head[1];
            if (version != Version)
            {
                throw new InvalidDataException($"SPDY version {version} is not spoken here");
            }

            switch ((SpdyFrameType)((head[2] << 8) | head[3]))
            {
                case SpdyFrameType.SynReply when length >= 4 && (flags & FlagFin) != 0:
                    _onEnd(BinaryPrimitives.ReadInt32BigEndian(payload) & 0x7fffffff);
                    break;
                case SpdyFrameType.RstStream when length >= 8:
                    _onEnd(BinaryPrimitives.ReadInt32BigEndian(payload) & 0x7fffffff);
                    break;
                case SpdyFrameType.Ping when length == 4:
                    await _write.WaitAsync(cancellationToken);
                    try
                    {
                        await WriteControlAsync(SpdyFrameType.Ping, 0, payload, cancellationToken);
                    }
                    finally
                    {
                        _write.Release();
                    }

                    break;
                case SpdyFrameType.GoAway:
                    return;
                default:
                    // SYN_REPLY and HEADERS (header blocks this side does not need), SETTINGS, WINDOW_UPDATE.
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _compressor.DisposeAsync();
        await _compressed.DisposeAsync();
        await _connection.DisposeAsync();
        _write.Dispose();
    }

    private async Task WriteDataAsync(int stream, ReadOnlyMemory<byte> data, byte flags, CancellationToken cancellationToken)
    {
        var frame = new byte[8 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, stream & 0x7fffffff);
        frame[4] = flags;
        frame[5] = (byte)(data.Length >> 16);
        frame[6] = (byte)(data.Length >> 8);
        frame[7] = (byte)data.Length;
        data.CopyTo(frame.AsMemory(8));
        await _write.WaitAsync(cancellationToken);
        try
        {
            await _connection.WriteAsync(frame, cancellationToken);
            await _connection.FlushAsync(cancellationToken);
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Writes a control frame; the caller holds the write lock.</summary>
    private async Task WriteControlAsync(SpdyFrameType type, byte flags, byte[] payload, CancellationToken cancellationToken)
    {
        var frame = new byte[8 + payload.Length];
        frame[0] = 0x80;
        frame[1] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)type);
        frame[4] = flags;
        frame[5] = (byte)(payload.Length >> 16);
        frame[6] = (byte)(payload.Length >> 8);
        frame[7] = (byte)payload.Length;
        payload.CopyTo(frame, 8);
        await _connection.WriteAsync(frame, cancellationToken);
        await _connection.FlushAsync(cancellationToken);
    }

    /// <summary>One header block through the session's compressor, sync-flushed so the peer can read it now.</summary>
    private byte[] Compress(byte[] block)
    {
        _compressed.SetLength(0);
        _compressor.Write(block);
        _compressor.Flush();
        return _compressed.ToArray();
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await _connection.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return filled == 0 ? false : throw new InvalidDataException("the SPDY connection ended inside a frame");
            }

            filled += read;
        }

        return true;
    }
}
