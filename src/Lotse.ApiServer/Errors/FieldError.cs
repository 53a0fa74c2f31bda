using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Errors;

public enum FieldErrorType
{
    Required,
    Invalid,
    NotSupported,
    Duplicate,
    Forbidden,
    TooLong,
    TooMany,
}

/// <summary>
/// One validation failure, worded like apimachinery's field.Error: <c>spec.restartPolicy: Unsupported
/// value: "x": supported values: "Always", "Never", "OnFailure"</c>.
/// </summary>
public sealed record FieldError(FieldErrorType Type, string Field, string? BadValue, string Detail)
{
    public static FieldError Required(FieldPath path, string detail = "") => new(FieldErrorType.Required, path.ToString(), null, detail);

    /// <param name="value">The offending value, already rendered (see <see cref="Render(JsonNode?)"/>), or a raw string to be quoted.</param>
    public static FieldError Invalid(FieldPath path, string value, string detail) => new(FieldErrorType.Invalid, path.ToString(), Quote(value), detail);

    public static FieldError Invalid(FieldPath path, JsonNode? value, string detail) => new(FieldErrorType.Invalid, path.ToString(), Render(value), detail);

    public static FieldError NotSupported(FieldPath path, string value, IEnumerable<string> supported) =>
        new(FieldErrorType.NotSupported, path.ToString(), Quote(value), "supported values: " + string.Join(", ", supported.Select(Quote)));

    public static FieldError Duplicate(FieldPath path, string value) => new(FieldErrorType.Duplicate, path.ToString(), Quote(value), string.Empty);

    public static FieldError Forbidden(FieldPath path, string detail) => new(FieldErrorType.Forbidden, path.ToString(), null, detail);

    public static FieldError TooLong(FieldPath path, int max) => new(FieldErrorType.TooLong, path.ToString(), null, $"may not be more than {max} bytes");

    public static FieldError TooMany(FieldPath path, int actual, int max) => new(FieldErrorType.TooMany, path.ToString(), actual.ToString(System.Globalization.CultureInfo.InvariantCulture), $"must have at most {max} items");

    /// <summary>The cause reason of a Status (FieldValueRequired, FieldValueInvalid, …).</summary>
    public string Reason => Type switch
    {
        FieldErrorType.Required => "FieldValueRequired",
        FieldErrorType.Invalid => "FieldValueInvalid",
        FieldErrorType.NotSupported => "FieldValueNotSupported",
        FieldErrorType.Duplicate => "FieldValueDuplicate",
        FieldErrorType.Forbidden => "FieldValueForbidden",
        FieldErrorType.TooLong => "FieldValueTooLong",
        _ => "FieldValueTooMany",
    };

    private string TypeText => Type switch
    {
        FieldErrorType.Required => "Required value",
        FieldErrorType.Invalid => "Invalid value",
        FieldErrorType.NotSupported => "Unsupported value",
        FieldErrorType.Duplicate => "Duplicate value",
        FieldErrorType.Forbidden => "Forbidden",
        FieldErrorType.TooLong => "Too long",
        _ => "Too many",
    };

    /// <summary>The message without the field (kubernetes' ErrorBody): what a Status cause carries.</summary>
    public string Body
    {
        get
        {
            var text = TypeText;
            if (BadValue is not null)
            {
                text += ": " + BadValue;
            }

            return Detail.Length > 0 ? $"{text}: {Detail}" : text;
        }
    }

    public override string ToString() => $"{Field}: {Body}";

    public static string Quote(string value) => JsonSerializer.Serialize(value, JsonDefaults.Options);

    public static string Render(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Quote(v.GetValue<string>()),
        JsonValue v => v.ToJsonString(),
        _ => "\"object\"",
    };
}
