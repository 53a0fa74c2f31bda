using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Lotse.ApiServer.Protobuf;

namespace Lotse.Benchmarks.ApiMachinery;

/// <summary>
/// Encodes a built-in object's JSON as the Kubernetes protobuf body a client sends (<c>k8s\0</c> +
/// runtime.Unknown), with Google.Protobuf's <see cref="CodedOutputStream"/> and the server's field table —
/// the inverse of the decoder, written independently of it, so the benchmark's bodies look like kubectl's.
/// </summary>
internal static class ProtobufBodies
{
    private const WireFormat.WireType Delimited = WireFormat.WireType.LengthDelimited;

    public static byte[] Encode(JsonObject obj)
    {
        var table = MessageTable.Instance;
        var apiVersion = obj["apiVersion"]!.GetValue<string>();
        var kind = obj["kind"]!.GetValue<string>();
        var raw = Message(obj, table.Kinds[(apiVersion, kind)], table);
        var typeMeta = Build(o =>
        {
            o.WriteTag(1, Delimited);
            o.WriteString(apiVersion);
            o.WriteTag(2, Delimited);
            o.WriteString(kind);
        });
        var unknown = Build(o =>
        {
            Nested(o, 1, typeMeta);
            Nested(o, 2, raw);
        });
        return [.. "k8s\0"u8, .. unknown];
    }

    private static byte[] Build(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
            output.Flush();
        }

        return buffer.ToArray();
    }

    private static void Nested(CodedOutputStream output, int number, byte[] message)
    {
        output.WriteTag(number, Delimited);
        output.WriteBytes(ByteString.CopyFrom(message));
    }

    private static byte[] Message(JsonObject obj, string message, MessageTable table) => Build(o =>
    {
        foreach (var field in table.Messages[message].Values.OrderBy(f => f.Number))
        {
            if (field.Inline)
            {
                // The inline message's fields sit in this JSON object (ProbeHandler in Probe, VolumeSource in Volume).
                var inner = Message(obj, field.Type, table);
                if (inner.Length > 0)
                {
                    Nested(o, field.Number, inner);
                }

                continue;
            }

            if (obj[field.JsonName] is not { } value)
            {
                continue;
            }

            if (field.Type.StartsWith("map<", StringComparison.Ordinal))
            {
                var valueType = field.Type[(field.Type.IndexOf(',', StringComparison.Ordinal) + 1)..^1];
                foreach (var (key, item) in value.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    Nested(o, field.Number, Build(e =>
                    {
                        e.WriteTag(1, Delimited);
                        e.WriteString(key);
                        Value(e, 2, valueType, item!, table);
                    }));
                }
            }
            else if (field.Repeated)
            {
                foreach (var item in value.AsArray())
                {
                    Value(o, field.Number, field.Type, item!, table);
                }
            }
            else
            {
                Value(o, field.Number, field.Type, value, table);
            }
        }
    });

    private static void Value(CodedOutputStream o, int number, string type, JsonNode value, MessageTable table)
    {
        switch (type)
        {
            case "string":
                o.WriteTag(number, Delimited);
                o.WriteString(value.GetValue<string>());
                break;
            case "bytes":
                o.WriteTag(number, Delimited);
                o.WriteBytes(ByteString.FromBase64(value.GetValue<string>()));
                break;
            case "bool":
                o.WriteTag(number, WireFormat.WireType.Varint);
                o.WriteBool(value.GetValue<bool>());
                break;
            case "int32":
                o.WriteTag(number, WireFormat.WireType.Varint);
                o.WriteInt32(value.GetValue<int>());
                break;
            case "int64":
                o.WriteTag(number, WireFormat.WireType.Varint);
                o.WriteInt64(value.GetValue<long>());
                break;
            case "quantity":
                Nested(o, number, Build(q =>
                {
                    q.WriteTag(1, Delimited);
                    q.WriteString(value.GetValue<string>());
                }));
                break;
            case "intorstring":
                // intstr.IntOrString: type (0 int, 1 string) 1, intVal 2, strVal 3.
                Nested(o, number, Build(i =>
                {
                    if (value.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                    {
                        i.WriteTag(2, WireFormat.WireType.Varint);
                        i.WriteInt32(value.GetValue<int>());
                    }
                    else
                    {
                        i.WriteTag(1, WireFormat.WireType.Varint);
                        i.WriteInt64(1);
                        i.WriteTag(3, Delimited);
                        i.WriteString(value.GetValue<string>());
                    }
                }));
                break;
            case "time":
                var seconds = DateTimeOffset.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture).ToUnixTimeSeconds();
                Nested(o, number, Build(t =>
                {
                    t.WriteTag(1, WireFormat.WireType.Varint);
                    t.WriteInt64(seconds);
                }));
                break;
            default:
                if (!table.Messages.ContainsKey(type))
                {
                    throw new NotSupportedException($"the bench encoder does not write {type}");
                }

                Nested(o, number, Message(value.AsObject(), type, table));
                break;
        }
    }
}
