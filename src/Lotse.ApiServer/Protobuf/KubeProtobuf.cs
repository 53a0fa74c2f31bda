using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Protobuf;

/// <summary>
/// Decodes Kubernetes protobuf bodies (<c>application/vnd.kubernetes.protobuf</c>: the magic
/// <c>k8s\0</c>, then a <c>runtime.Unknown</c> whose typeMeta names the kind and whose raw bytes are the
/// object) into the JSON the rest of the server handles, through <see cref="MessageTable"/>. Zero scalars
/// are left out as Go's <c>omitempty</c> leaves them out of kube's JSON; unknown field numbers are skipped.
/// Malformed input throws <see cref="FormatException"/> with what was wrong.
/// </summary>
public static class KubeProtobuf
{
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static bool HasMagic(ReadOnlySpan<byte> body) => body.StartsWith(Magic);

    /// <summary>The object in the envelope, with <c>apiVersion</c> and <c>kind</c> from its typeMeta.</summary>
    public static JsonObject Decode(ReadOnlySpan<byte> body)
    {
        try
        {
            return DecodeEnvelope(body);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or InvalidOperationException)
        {
            // A value the wire format allows but no Kubernetes object can hold: still the client's mistake.
            throw new FormatException(e.Message, e);
        }
    }

    private static JsonObject DecodeEnvelope(ReadOnlySpan<byte> body)
    {
        if (!HasMagic(body))
        {
            throw new FormatException("the body does not start with the Kubernetes protobuf magic k8s\\0");
        }

        var reader = new WireReader(body[Magic.Length..].ToArray());
        string? apiVersion = null, kind = null;
        byte[]? raw = null;
        while (!reader.End)
        {
            var (number, wire) = reader.Tag();
            switch (number)
            {
                case 1:
                    var meta = new WireReader(reader.Bytes(wire, "typeMeta"));
                    while (!meta.End)
                    {
                        var (n, w) = meta.Tag();
                        if (n == 1 && w == 2)
                        {
                            apiVersion = meta.String();
                        }
                        else if (n == 2 && w == 2)
                        {
                            kind = meta.String();
                        }
                        else
                        {
                            meta.Skip(w);
                        }
                    }

                    break;
                case 2:
                    raw = reader.Bytes(wire, "raw");
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (apiVersion is null || kind is null)
        {
            throw new FormatException("the protobuf envelope names no apiVersion and kind");
        }

        var table = MessageTable.Instance;
        if (!table.Kinds.TryGetValue((apiVersion, kind), out var message))
        {
            throw new FormatException($"no protobuf decoding is known for {kind} in {apiVersion}");
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        DecodeMessage(new WireReader(raw ?? []), message, obj, table);
        return obj;
    }

    private static void DecodeMessage(WireReader reader, string message, JsonObject target, MessageTable table)
    {
        if (!table.Messages.TryGetValue(message, out var fields))
        {
            throw new FormatException($"the protobuf table has no message {message}");
        }

        while (!reader.End)
        {
            var (number, wire) = reader.Tag();
            if (!fields.TryGetValue(number, out var field))
            {
                reader.Skip(wire);
                continue;
            }

            if (field.Inline)
            {
                DecodeMessage(new WireReader(reader.Bytes(wire, field.JsonName)), field.Type, target, table);
                continue;
            }

            if (field.Repeated)
            {
                var list = target[field.JsonName] as JsonArray ?? [];
                target[field.JsonName] = list;
                if (wire == 2 && IsPackable(field.Type))
                {
                    var packed = new WireReader(reader.Bytes());
                    while (!packed.End)
                    {
                        list.Add(Scalar(packed, field.Type, WireOf(field.Type)));
                    }
                }
                else
                {
                    list.Add(Value(reader, field, wire, table));
                }

                continue;
            }

            if (field.Type.StartsWith("map<", StringComparison.Ordinal))
            {
                var map = target[field.JsonName] as JsonObject ?? [];
                target[field.JsonName] = map;
                var (key, value) = MapEntry(new WireReader(reader.Bytes(wire, field.JsonName)), field.Type[(field.Type.IndexOf(',', StringComparison.Ordinal) + 1)..^1], table);
                map[key] = value;
                continue;
            }

            // Go's omitempty: a zero scalar stays out of the JSON unless the field is kept (a pointer, no omitempty).
            var node = Value(reader, field, wire, table);
            if (field.Keep || !IsZero(node))
            {
                target[field.JsonName] = node;
            }
            else
            {
                target.Remove(field.JsonName);
            }
        }
    }

    private static (string Key, JsonNode? Value) MapEntry(WireReader entry, string valueType, MessageTable table)
    {
        var key = string.Empty;
        JsonNode? value = Default(valueType);
        var valueField = new FieldDef(2, "value", valueType, false, true, false);
        while (!entry.End)
        {
            var (number, wire) = entry.Tag();
            if (number == 1 && wire == 2)
            {
                key = entry.String();
            }
            else if (number == 2)
            {
                value = Value(entry, valueField, wire, table);
            }
            else
            {
                entry.Skip(wire);
            }
        }

        return (key, value);
    }

    private static JsonNode? Default(string type) => type switch
    {
        "string" or "quantity" => JsonValue.Create(string.Empty),
        "bytes" => JsonValue.Create(string.Empty),
        _ => null,
    };

    private static JsonNode? Value(WireReader reader, FieldDef field, int wire, MessageTable table)
    {
        if (!IsScalar(field.Type) && wire != 2)
        {
            // Everything but a scalar is length-delimited; a varint here would be read as a length.
            throw new FormatException($"field {field.JsonName} ({field.Type}) came with wire type {wire}, not 2 (length-delimited)");
        }

        switch (field.Type)
        {
            case "quantity":
                return JsonValue.Create(SingleString(new WireReader(reader.Bytes())));
            case "intorstring":
                return IntOrString(new WireReader(reader.Bytes()));
            case "time":
            case "microtime":
                return Time(new WireReader(reader.Bytes()), field.Type == "microtime");
            case "duration":
                return JsonValue.Create(GoDuration(FirstVarint(new WireReader(reader.Bytes()))));
            case "rawextension":
            case "fieldsv1":
                var raw = RawField(new WireReader(reader.Bytes()));
                return raw.Length == 0 ? null : RawJson(raw, field.JsonName);
            case "stringlist":
                var list = new JsonArray();
                var items = new WireReader(reader.Bytes());
                while (!items.End)
                {
                    var (n, w) = items.Tag();
                    if (n == 1 && w == 2)
                    {
                        list.Add(items.String());
                    }
                    else
                    {
                        items.Skip(w);
                    }
                }

                return list;
        }

        if (IsScalar(field.Type))
        {
            return Scalar(reader, field.Type, wire);
        }

        var child = new JsonObject();
        DecodeMessage(new WireReader(reader.Bytes()), field.Type, child, table);
        return child;
    }

    private static JsonNode? Scalar(WireReader reader, string type, int wire) => type switch
    {
        "string" => wire == 2 ? JsonValue.Create(reader.String()) : throw WrongWire(type, wire),
        "bytes" => wire == 2 ? JsonValue.Create(Convert.ToBase64String(reader.Bytes())) : throw WrongWire(type, wire),
        "bool" => wire == 0 ? JsonValue.Create(reader.Varint() != 0) : throw WrongWire(type, wire),
        "int32" => wire == 0 ? JsonValue.Create((int)(long)reader.Varint()) : throw WrongWire(type, wire),
        "int64" => wire == 0 ? JsonValue.Create((long)reader.Varint()) : throw WrongWire(type, wire),
        "uint32" => wire == 0 ? JsonValue.Create((uint)reader.Varint()) : throw WrongWire(type, wire),
        "uint64" => wire == 0 ? JsonValue.Create(reader.Varint()) : throw WrongWire(type, wire),
        "double" => wire == 1 ? JsonValue.Create(Finite(BitConverter.Int64BitsToDouble((long)reader.Fixed64()))) : throw WrongWire(type, wire),
        "float" => wire == 5 ? JsonValue.Create((float)Finite(BitConverter.Int32BitsToSingle((int)reader.Fixed32()))) : throw WrongWire(type, wire),
        _ => throw new FormatException($"unknown scalar type {type}"),
    };

    private static FormatException WrongWire(string type, int wire) => new($"a {type} field came with wire type {wire}");

    /// <summary>Embedded JSON (runtime.RawExtension, FieldsV1), as deep as a JSON body may be.</summary>
    private static JsonNode? RawJson(byte[] raw, string field)
    {
        try
        {
            return JsonNode.Parse(raw, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new FormatException($"field {field} does not hold valid JSON: {e.Message}", e);
        }
    }

    private static double Finite(double value) =>
        double.IsFinite(value) ? value : throw new FormatException($"a number field holds {value}, which JSON cannot");

    private static bool IsScalar(string type) => type is "string" or "bytes" or "bool" or "int32" or "int64" or "uint32" or "uint64" or "double" or "float";

    private static bool IsPackable(string type) => type is "bool" or "int32" or "int64" or "uint32" or "uint64" or "double" or "float";

    private static int WireOf(string type) => type switch
    {
        "double" => 1,
        "float" => 5,
        _ => 0,
    };

    private static bool IsZero(JsonNode? node) => node switch
    {
        null => true,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        JsonValue v when v.TryGetValue<int>(out var i) => i == 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l == 0,
        JsonValue v when v.TryGetValue<uint>(out var u) => u == 0,
        JsonValue v when v.TryGetValue<ulong>(out var ul) => ul == 0,
        JsonValue v when v.TryGetValue<double>(out var d) => d == 0,
        JsonValue v when v.TryGetValue<float>(out var f) => f == 0,
        _ => false,
    };

    private static string SingleString(WireReader reader)
    {
        var value = string.Empty;
        while (!reader.End)
        {
            var (n, w) = reader.Tag();
            if (n == 1 && w == 2)
            {
                value = reader.String();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    private static byte[] RawField(WireReader reader)
    {
        var value = Array.Empty<byte>();
        while (!reader.End)
        {
            var (n, w) = reader.Tag();
            if (n == 1 && w == 2)
            {
                value = reader.Bytes();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    private static ulong FirstVarint(WireReader reader)
    {
        ulong value = 0;
        while (!reader.End)
        {
            var (n, w) = reader.Tag();
            if (n == 1 && w == 0)
            {
                value = reader.Varint();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    /// <summary>intstr.IntOrString: type 0 → intVal (field 2), type 1 → strVal (field 3).</summary>
    private static JsonNode IntOrString(WireReader reader)
    {
        long type = 0, number = 0;
        var text = string.Empty;
        while (!reader.End)
        {
            var (n, w) = reader.Tag();
            switch (n)
            {
                case 1 when w == 0:
                    type = (long)reader.Varint();
                    break;
                case 2 when w == 0:
                    number = (int)(long)reader.Varint();
                    break;
                case 3 when w == 2:
                    text = reader.String();
                    break;
                default:
                    reader.Skip(w);
                    break;
            }
        }

        return type == 1 ? JsonValue.Create(text) : JsonValue.Create(number);
    }

    /// <summary>metav1.Time (seconds 1, nanos 2) as RFC 3339 (seconds, or micro for MicroTime); the zero time is null.</summary>
    private static JsonNode? Time(WireReader reader, bool micro)
    {
        long seconds = 0, nanos = 0;
        while (!reader.End)
        {
            var (n, w) = reader.Tag();
            if (n == 1 && w == 0)
            {
                seconds = (long)reader.Varint();
            }
            else if (n == 2 && w == 0)
            {
                nanos = (long)reader.Varint();
            }
            else
            {
                reader.Skip(w);
            }
        }

        if (seconds == 0 && nanos == 0)
        {
            return null;
        }

        if (seconds is < -62135596800 or > 253402300799 || nanos is < 0 or >= 1_000_000_000)
        {
            throw new FormatException($"a time of {seconds}s {nanos}ns is out of range");
        }

        var time = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100).UtcDateTime;
        return JsonValue.Create(time.ToString(micro ? "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    /// <summary>Go's time.Duration.String() of a nanosecond count ("1h2m3s", "500ms", "0s").</summary>
    internal static string GoDuration(ulong raw)
    {
        var nanos = (long)raw;
        if (nanos == 0)
        {
            return "0s";
        }

        var builder = new StringBuilder();
        var span = TimeSpan.FromTicks(Math.Abs(nanos) / 100);
        if (nanos < 0)
        {
            builder.Append('-');
        }

        if (span.TotalSeconds < 1)
        {
            var abs = Math.Abs(nanos);
            return builder.Append(abs >= 1_000_000 ? $"{abs / 1e6:0.###}ms" : abs >= 1000 ? $"{abs / 1e3:0.###}µs" : $"{abs}ns").ToString();
        }

        var hours = (long)span.TotalHours;
        if (hours > 0)
        {
            builder.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || span.Minutes > 0)
        {
            builder.Append(span.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        var seconds = span.Seconds + ((Math.Abs(nanos) % 1_000_000_000) / 1e9);
        return builder.Append(seconds.ToString("0.#########", CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
