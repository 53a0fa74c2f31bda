using System.Buffers.Binary;
using System.IO.Compression;
using Lotse.Streaming.Spdy;

namespace Lotse.Streaming.Tests;

/// <summary>
/// The runtime's side of a SPDY session, as far as tests need it: reads frames (header blocks
/// decompressed with one zlib stream per session), writes DATA, PING, SYN_REPLY and GOAWAY frames.
/// </summary>
internal sealed class SpdyPeer(Stream connection) : IAsyncDisposable
{
    private readonly ZLibHeaderReader _headers = new();

    public sealed record Frame(bool Control, int Type, byte Flags, int Stream, byte[] Payload, List<KeyValuePair<string, string>>? Headers);

    public async Task<Frame?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var head = new byte[8];
        if (!await ReadExactlyAsync(head, cancellationToken))
        {
            return null;
        }

        var length = (head[5] << 16) | (head[6] << 8) | head[7];
        var payload = new byte[length];
        await ReadExactlyAsync(payload, cancellationToken);
        if ((head[0] & 0x80) == 0)
        {
            return new Frame(false, 0, head[4], BinaryPrimitives.ReadInt32BigEndian(head) & 0x7fffffff, payload, null);
        }

        var type = (head[2] << 8) | head[3];
        var stream = length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(payload) & 0x7fffffff : 0;
        var headers = type == (int)SpdyFrameType.SynStream ? HeaderBlock.Decode(_headers.Read(payload.AsSpan(10))) : null;
        return new Frame(true, type, head[4], stream, payload, headers);
    }

    public Task DataAsync(int stream, byte[] data, bool fin = false)
    {
        var frame = new byte[8 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, stream);
        frame[4] = (byte)(fin ? 1 : 0);
        frame[5] = (byte)(data.Length >> 16);
        frame[6] = (byte)(data.Length >> 8);
        frame[7] = (byte)data.Length;
        data.CopyTo(frame, 8);
        return WriteAsync(frame);
    }

    public Task ControlAsync(SpdyFrameType type, byte[] payload, byte flags = 0)
    {
        var frame = new byte[8 + payload.Length];
        frame[0] = 0x80;
        frame[1] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)type);
        frame[4] = flags;
        frame[5] = (byte)(payload.Length >> 16);
        frame[6] = (byte)(payload.Length >> 8);
        frame[7] = (byte)payload.Length;
        payload.CopyTo(frame, 8);
        return WriteAsync(frame);
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await connection.WriteAsync(bytes);
        await connection.FlushAsync();
    }

    public ValueTask DisposeAsync()
    {
        _headers.Dispose();
        return connection.DisposeAsync();
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await connection.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    /// <summary>One zlib stream across all header blocks of a session, read block by block.</summary>
    private sealed class ZLibHeaderReader : IDisposable
    {
        private readonly MemoryStream _input = new();
        private readonly ZLibStream _inflater;

        public ZLibHeaderReader() => _inflater = new ZLibStream(new FeedStream(_input), CompressionMode.Decompress);

        public byte[] Read(ReadOnlySpan<byte> compressed)
        {
            var position = _input.Position;
            _input.Seek(0, SeekOrigin.End);
            _input.Write(compressed);
            _input.Position = position;
            var output = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while ((read = _inflater.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }

        public void Dispose()
        {
            _inflater.Dispose();
            _input.Dispose();
        }
    }

    /// <summary>Hands the inflater what has been fed so far and says "nothing more yet" (0) instead of blocking.</summary>
    private sealed class FeedStream(MemoryStream source) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => source.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
