using System.Text.Json.Nodes;
using Google.Protobuf;
using Lotse.ApiServer.Http;

namespace Lotse.ApiServer.OpenApi;

/// <summary>
/// Encodes a Swagger 2.0 document (JSON) as gnostic's <c>openapi.v2.Document</c> protobuf, the only
/// form kubectl accepts from <c>/openapi/v2</c>. Covers the subset the server emits: info, paths with
/// operations (ids, media types, query parameters, responses, vendor extensions), and definitions with
/// schemas (refs, formats, descriptions, types, required, maps, items, properties, vendor extensions). Field numbers
/// are those of gnostic's OpenAPIv2.proto; vendor extension values travel as YAML, as gnostic does.
/// </summary>
public static class GnosticEncoder
{
    public const string ContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    public static byte[] Encode(JsonObject swagger)
    {
        var doc = new Message();
        doc.String(1, swagger["swagger"]?.ToString());
        if (swagger["info"] is JsonObject info)
        {
            var i = new Message();
            i.String(1, info["title"]?.ToString());
            i.String(2, info["version"]?.ToString());
            doc.Nested(2, i);
        }

        if (swagger["paths"] is JsonObject paths)
        {
            var p = new Message();
            foreach (var (path, item) in paths)
            {
                p.Nested(2, Named(path, PathItem((JsonObject)item!)));
            }

            doc.Nested(8, p);
        }

        if (swagger["definitions"] is JsonObject definitions)
        {
            var d = new Message();
            foreach (var (name, schema) in definitions)
            {
                d.Nested(1, Named(name, Schema((JsonObject)schema!)));
            }

            doc.Nested(9, d);
        }

        return doc.ToArray();
    }

    private static Message Named(string name, Message value)
    {
        var m = new Message();
        m.String(1, name);
        m.Nested(2, value);
        return m;
    }

    private static Message PathItem(JsonObject item)
    {
        var m = new Message();
        foreach (var (verb, field) in new[] { ("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("patch", 8) })
        {
            if (item[verb] is JsonObject op)
            {
                m.Nested(field, Operation(op));
            }
        }

        return m;
    }

    private static Message Operation(JsonObject op)
    {
        var m = new Message();
        m.String(5, op["operationId"]?.ToString());
        foreach (var s in Strings(op["produces"]))
        {
            m.String(6, s);
        }

        foreach (var s in Strings(op["consumes"]))
        {
            m.String(7, s);
        }

        foreach (var parameter in (op["parameters"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var query = new Message();
            query.Bool(1, parameter["required"].AsBoolean() ?? false);
            query.String(2, parameter["in"]?.ToString());
            query.String(3, parameter["description"]?.ToString());
            query.String(4, parameter["name"]?.ToString());
            query.String(6, parameter["type"]?.ToString());
            query.Bool(20, parameter["uniqueItems"].AsBoolean() ?? false);
            var nonBody = new Message();
            nonBody.Nested(3, query);
            var param = new Message();
            param.Nested(2, nonBody);
            var item = new Message();
            item.Nested(1, param);
            m.Nested(8, item);
        }

        if (op["responses"] is JsonObject responses)
        {
            var r = new Message();
            foreach (var (code, response) in responses)
            {
                var resp = new Message();
                resp.String(1, response?["description"]?.ToString());
                if (response?["schema"] is JsonObject schema)
                {
                    var schemaItem = new Message();
                    schemaItem.Nested(1, Schema(schema));
                    resp.Nested(2, schemaItem);
                }

                var value = new Message();
                value.Nested(1, resp);
                r.Nested(1, Named(code, value));
            }

            m.Nested(9, r);
        }

        Extensions(m, 13, op);
        return m;
    }

    private static Message Schema(JsonObject schema)
    {
        var m = new Message();
        m.String(1, schema["$ref"]?.ToString());
        m.String(2, (schema["format"] as JsonValue)?.ToString());
        m.String(4, schema["description"]?.ToString());
        foreach (var s in Strings(schema["required"]))
        {
            m.String(19, s);
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            // AdditionalPropertiesItem { Schema schema = 1 }: a map, which kubectl explain shows as map[string]T.
            var a = new Message();
            a.Nested(1, Schema(additional));
            m.Nested(21, a);
        }

        if (schema["type"] is JsonValue type)
        {
            var t = new Message();
            t.String(1, type.ToString());
            m.Nested(22, t);
        }

        if (schema["items"] is JsonObject items)
        {
            var i = new Message();
            i.Nested(1, Schema(items));
            m.Nested(23, i);
        }

        if (schema["properties"] is JsonObject properties)
        {
            var p = new Message();
            foreach (var (name, property) in properties)
            {
                p.Nested(1, Named(name, Schema((JsonObject)property!)));
            }

            m.Nested(25, p);
        }

        Extensions(m, 31, schema);
        return m;
    }

    private static void Extensions(Message m, int field, JsonObject obj)
    {
        foreach (var (name, value) in obj)
        {
            if (!name.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            var any = new Message();
            any.String(2, YamlJson.ToYaml(value));
            var named = new Message();
            named.String(1, name);
            named.Nested(2, any);
            m.Nested(field, named);
        }
    }

    private static IEnumerable<string> Strings(JsonNode? node) =>
        (node as JsonArray)?.Select(n => n?.ToString()).OfType<string>() ?? [];

    /// <summary>A protobuf message under construction: fields appended in order (memory only; nothing to dispose).</summary>
#pragma warning disable CA1001
    private sealed class Message
    {
        private readonly MemoryStream _buffer = new();
        private readonly CodedOutputStream _out;

        public Message() => _out = new CodedOutputStream(_buffer, leaveOpen: true);

        public void String(int field, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                _out.WriteTag(field, WireFormat.WireType.LengthDelimited);
                _out.WriteString(value);
            }
        }

        public void Bool(int field, bool value)
        {
            if (value)
            {
                _out.WriteTag(field, WireFormat.WireType.Varint);
                _out.WriteBool(true);
            }
        }

        public void Nested(int field, Message message)
        {
            _out.WriteTag(field, WireFormat.WireType.LengthDelimited);
            _out.WriteBytes(ByteString.CopyFrom(message.ToArray()));
        }

        public byte[] ToArray()
        {
            _out.Flush();
            return _buffer.ToArray();
        }
    }
#pragma warning restore CA1001
}
