using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Lotse.ApiServer.Http;

/// <summary>
/// YAML ⇄ JSON for request and response bodies, with the YAML 1.2 core schema kubernetes' decoder
/// uses for plain scalars (true/false, null/~, integers, floats); quoted scalars stay strings.
/// </summary>
public static partial class YamlJson
{
    public static JsonNode? Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0)
        {
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            throw new YamlException("a request body must hold a single YAML document");
        }

        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => ConvertMap(map),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
        YamlScalarNode scalar => ConvertScalar(scalar),
        _ => throw new YamlException(node.Start, node.End, "unsupported YAML node (aliases are not supported)"),
    };

    private static JsonObject ConvertMap(YamlMappingNode map)
    {
        var obj = new JsonObject();
        foreach (var (k, v) in map.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? throw new YamlException(k.Start, k.End, "mapping keys must be strings");
            if (obj.ContainsKey(key))
            {
                throw new YamlException(k.Start, k.End, $"duplicate key \"{key}\"");
            }

            obj[key] = Convert(v);
        }

        return obj;
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    /// <summary>Writes JSON as block-style YAML (what <c>Accept: application/yaml</c> gets).</summary>
    public static string ToYaml(JsonNode? node)
    {
        var sb = new StringBuilder();
        var emitter = new Emitter(new StringWriter(sb));
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
        return sb.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart());
                foreach (var (k, v) in obj)
                {
                    emitter.Emit(new Scalar(k));
                    Emit(emitter, v);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, false, SequenceStyle.Block));
                foreach (var v in array)
                {
                    Emit(emitter, v);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String:
                var s = value.GetValue<string>();
                var plainIsSafe = ConvertScalar(new YamlScalarNode(s)) is JsonValue v2 && v2.GetValueKind() == System.Text.Json.JsonValueKind.String && s.Length > 0;
                emitter.Emit(new Scalar(null, null, s, plainIsSafe ? ScalarStyle.Any : ScalarStyle.DoubleQuoted, true, true));
                break;
            default:
                emitter.Emit(new Scalar(null, null, node.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
        }
    }
}
