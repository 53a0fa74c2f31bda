using System.Text;

namespace Lotse.ApiServer.Protobuf;

/// <summary>The protobuf wire format, read forward; anything truncated or malformed throws <see cref="FormatException"/>.</summary>
internal sealed class WireReader(byte[] data)
{
    private int _position;

    public bool End => _position >= data.Length;

    public (int Number, int Wire) Tag()
    {
        var tag = Varint();
        var number = tag >> 3;
        if (number is 0 or > int.MaxValue)
        {
            throw new FormatException($"invalid field number {number}");
        }

        return ((int)number, (int)(tag & 7));
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= data.Length)
            {
                throw new FormatException("truncated varint");
            }

            var b = data[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("varint longer than 10 bytes");
    }

    public ulong Fixed64() => BitConverter.ToUInt64(Take(8));

    public uint Fixed32() => BitConverter.ToUInt32(Take(4));

    public byte[] Bytes()
    {
        var length = Varint();
        if (length > (ulong)(data.Length - _position))
        {
            throw new FormatException("length-delimited field runs past the end of the body");
        }

        return Take((int)length);
    }

    /// <summary>A length-delimited field, after checking that the tag said so (wire type 2).</summary>
    public byte[] Bytes(int wire, string field) =>
        wire == 2 ? Bytes() : throw new FormatException($"field {field} came with wire type {wire}, not 2 (length-delimited)");

    public string String()
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Bytes());
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException("a string field is not valid UTF-8");
        }
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0:
                Varint();
                break;
            case 1:
                Take(8);
                break;
            case 2:
                Bytes();
                break;
            case 5:
                Take(4);
                break;
            default:
                throw new FormatException($"unsupported wire type {wire}");
        }
    }

    private byte[] Take(int count)
    {
        if (count > data.Length - _position)
        {
            throw new FormatException("truncated field");
        }

        var slice = data.AsSpan(_position, count).ToArray();
        _position += count;
        return slice;
    }
}
