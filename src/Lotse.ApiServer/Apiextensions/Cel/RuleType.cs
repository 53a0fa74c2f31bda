using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Apiextensions.Cel;

public enum RuleKind
{
    Dyn,
    Bool,
    Int,
    Double,
    String,
    Bytes,
    Null,
    List,
    Map,
    Object,
    Optional,
    Type,
}

/// <summary>
/// The CEL type of a schema node, as kube's apiextensions model derives it (schema/cel/model): an
/// object with properties is a struct whose fields are the escaped property names, an object with
/// additionalProperties a <c>map(string, V)</c>, an array a <c>list(T)</c>; int-or-string and
/// preserve-unknown-fields nodes are <c>dyn</c>. The resource root also sees apiVersion, kind and
/// metadata.name/generateName. Sizes (maxItems, maxProperties, maxLength) feed the cost estimate.
/// </summary>
public sealed class RuleType
{
    public static readonly RuleType Dyn = new(RuleKind.Dyn);
    public static readonly RuleType Bool = new(RuleKind.Bool);
    public static readonly RuleType Int = new(RuleKind.Int);
    public static readonly RuleType Double = new(RuleKind.Double);
    public static readonly RuleType String = new(RuleKind.String);
    public static readonly RuleType Bytes = new(RuleKind.Bytes);
    public static readonly RuleType Null = new(RuleKind.Null);
    public static readonly RuleType TypeOfType = new(RuleKind.Type);

    /// <summary>kube's size assumption for unbounded nodes: the largest request the server takes.</summary>
    public const long MaxRequestSizeBytes = 3 * 1024 * 1024;

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
        "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
    };

    private RuleType(RuleKind kind, RuleType? elem = null, IReadOnlyDictionary<string, RuleType>? fields = null)
    {
        Kind = kind;
        Elem = elem;
        Fields = fields;
    }

    public RuleKind Kind { get; }

    /// <summary>The element type of a list, the value type of a map, the wrapped type of an optional.</summary>
    public RuleType? Elem { get; }

    /// <summary>The fields of an object, by escaped name.</summary>
    public IReadOnlyDictionary<string, RuleType>? Fields { get; }

    /// <summary>The property name each escaped field name stands for.</summary>
    public IReadOnlyDictionary<string, string>? FieldNames { get; private init; }

    /// <summary>The schema's own type word ("object", "string", ""), which kube prints as the invalid value.</summary>
    public string SchemaType { get; private init; } = string.Empty;

    /// <summary>The most elements (list items, map entries, string characters) a value of this type can have.</summary>
    public long MaxElements { get; private init; } = MaxRequestSizeBytes;

    /// <summary>The least number of bytes one value of this type takes in a request (for unbounded sizes).</summary>
    public long MinSerializedSize { get; private init; } = 1;

    public static RuleType ListOf(RuleType elem) => new(RuleKind.List, elem) { MinSerializedSize = 2 };

    /// <summary>A list literal of a known length.</summary>
    public static RuleType ListOf(RuleType elem, long count) => new(RuleKind.List, elem) { MaxElements = count, MinSerializedSize = 2 };

    public static RuleType MapOf(RuleType value) => new(RuleKind.Map, value);

    public static RuleType OptionalOf(RuleType value) => new(RuleKind.Optional, value);

    public bool IsDyn => Kind == RuleKind.Dyn;

    /// <summary>The CEL type of a schema node.</summary>
    public static RuleType FromSchema(JsonObject schema, bool isResourceRoot = false)
    {
        var type = Str(schema, "type") ?? string.Empty;
        if (Flag(schema, "x-kubernetes-int-or-string"))
        {
            return new RuleType(RuleKind.Dyn) { SchemaType = type, MaxElements = Max(schema, "maxLength"), MinSerializedSize = 1 };
        }

        switch (type)
        {
            case "boolean":
                return new RuleType(RuleKind.Bool) { SchemaType = type, MinSerializedSize = 4 };
            case "integer":
                return new RuleType(RuleKind.Int) { SchemaType = type, MinSerializedSize = 1 };
            case "number":
                return new RuleType(RuleKind.Double) { SchemaType = type, MinSerializedSize = 1 };
            case "string":
                return new RuleType(RuleKind.String) { SchemaType = type, MaxElements = Max(schema, "maxLength"), MinSerializedSize = 2 };
            case "array":
                var items = schema["items"] is JsonObject itemSchema ? FromSchema(itemSchema) : Dyn;
                return new RuleType(RuleKind.List, items)
                {
                    SchemaType = type,
                    MaxElements = Max(schema, "maxItems", MaxRequestSizeBytes / (items.MinSerializedSize + 1)),
                    MinSerializedSize = 2,
                };
        }

        if (schema["properties"] is JsonObject properties || isResourceRoot)
        {
            var fields = new Dictionary<string, RuleType>(StringComparer.Ordinal);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, node) in schema["properties"] as JsonObject ?? [])
            {
                if (node is JsonObject property && Escape(name) is { } escaped)
                {
                    fields[escaped] = FromSchema(property);
                    names[escaped] = name;
                }
            }

            if (isResourceRoot)
            {
                fields["apiVersion"] = String;
                fields["kind"] = String;
                names["apiVersion"] = "apiVersion";
                names["kind"] = "kind";
                var metadata = new Dictionary<string, RuleType>(StringComparer.Ordinal) { ["name"] = String, ["generateName"] = String };
                fields["metadata"] = new RuleType(RuleKind.Object, fields: metadata)
                {
                    SchemaType = "object",
                    FieldNames = new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = "name", ["generateName"] = "generateName" },
                    MinSerializedSize = 2,
                };
                names["metadata"] = "metadata";
            }

            return new RuleType(RuleKind.Object, fields: fields) { SchemaType = "object", FieldNames = names, MaxElements = Max(schema, "maxProperties"), MinSerializedSize = 2 };
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            var values = FromSchema(additional);
            return new RuleType(RuleKind.Map, values)
            {
                SchemaType = "object",
                MaxElements = Max(schema, "maxProperties", MaxRequestSizeBytes / (values.MinSerializedSize + 4)),
                MinSerializedSize = 2,
            };
        }

        // Free-form objects (preserve-unknown-fields) and untyped nodes: anything goes.
        return new RuleType(RuleKind.Dyn) { SchemaType = type, MinSerializedSize = 1 };
    }

    /// <summary>
    /// kube's property-name escaping for CEL (model/escaping.go): reserved words become
    /// <c>__word__</c>; <c>__</c>, <c>.</c>, <c>-</c> and <c>/</c> become <c>__underscores__</c>,
    /// <c>__dot__</c>, <c>__dash__</c> and <c>__slash__</c>; any other name is not accessible (null).
    /// </summary>
    public static string? Escape(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] is '_' or '.' or '-' or '/'))
        {
            return null;
        }

        if (Reserved.Contains(name))
        {
            return $"__{name}__";
        }

        var escaped = new System.Text.StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '_' && i + 1 < name.Length && name[i + 1] == '_')
            {
                escaped.Append("__underscores__");
                i++;
            }
            else if (c == '.')
            {
                escaped.Append("__dot__");
            }
            else if (c == '-')
            {
                escaped.Append("__dash__");
            }
            else if (c == '/')
            {
                escaped.Append("__slash__");
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                escaped.Append(c);
            }
            else
            {
                return null;
            }
        }

        return escaped.ToString();
    }

    /// <summary>The name cel-go prints for this type in overload errors.</summary>
    public override string ToString() => Kind switch
    {
        RuleKind.Bool => "bool",
        RuleKind.Int => "int",
        RuleKind.Double => "double",
        RuleKind.String => "string",
        RuleKind.Bytes => "bytes",
        RuleKind.Null => "null_type",
        RuleKind.List => $"list({Elem})",
        RuleKind.Map => $"map(string, {Elem})",
        RuleKind.Object => "object",
        RuleKind.Optional => $"optional_type({Elem})",
        RuleKind.Type => "type",
        _ => "dyn",
    };

    private static long Max(JsonObject schema, string name, long fallback = MaxRequestSizeBytes) =>
        schema[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n
        : schema[name] is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x
        : fallback;

    private static string? Str(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject schema, string name) => schema[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
