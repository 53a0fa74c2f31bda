using System.Buffers.Binary;
using System.Text;

namespace Lotse.Streaming.Spdy;

/// <summary>A SPDY/3 name/value header block before compression: a count, then length-prefixed lower-case names and values (several values of one name joined by NUL).</summary>
public static class HeaderBlock
{
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var pairs = headers.GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .Select(g => (Name: Encoding.UTF8.GetBytes(g.Key), Value: Encoding.UTF8.GetBytes(string.Join('\0', g.Select(h => h.Value)))))
            .ToList();
        var block = new byte[4 + pairs.Sum(p => 8 + p.Name.Length + p.Value.Length)];
        BinaryPrimitives.WriteInt32BigEndian(block, pairs.Count);
        var at = 4;
        foreach (var (name, value) in pairs)
        {
            BinaryPrimitives.WriteInt32BigEndian(block.AsSpan(at), name.Length);
            name.CopyTo(block, at + 4);
            at += 4 + name.Length;
            BinaryPrimitives.WriteInt32BigEndian(block.AsSpan(at), value.Length);
            value.CopyTo(block, at + 4);
            at += 4 + value.Length;
        }

        return block;
    }

    /// <summary>Reads an uncompressed block back (tests, and peers that need to look); malformed blocks are an <see cref="InvalidDataException"/>.</summary>
    public static List<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> block)
    {
        if (block.Length < 4)
        {
            throw new InvalidDataException("a SPDY header block needs a count");
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(block);
        var headers = new List<KeyValuePair<string, string>>();
        var at = 4;
        for (var i = 0; i < count; i++)
        {
            var name = Field(block, ref at);
            var value = Field(block, ref at);
            headers.AddRange(value.Split('\0').Select(v => KeyValuePair.Create(name, v)));
        }

        return headers;
    }

    private static string Field(ReadOnlySpan<byte> block, ref int at)
    {
        if (at + 4 > block.Length)
        {
            throw new InvalidDataException("a SPDY header block ends early");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(block[at..]);
        if (length < 0 || at + 4 + length > block.Length)
        {
            throw new InvalidDataException("a SPDY header field runs past its block");
        }

        var text = Encoding.UTF8.GetString(block.Slice(at + 4, length));
        at += 4 + length;
        return text;
    }
}
