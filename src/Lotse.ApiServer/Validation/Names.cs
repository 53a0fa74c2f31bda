using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Validation;

/// <summary>
/// Name, label and annotation rules with kubernetes' exact messages (apimachinery's
/// util/validation and api/validation/objectmeta.go).
/// </summary>
public static partial class Names
{
    public const int Dns1123LabelMax = 63;
    public const int Dns1123SubdomainMax = 253;
    public const int LabelValueMax = 63;
    public const int QualifiedNameMax = 63;
    public const int TotalAnnotationSizeLimit = 256 * 1024;

    private const string Dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123SubdomainFormat = Dns1123LabelFormat + "(\\." + Dns1123LabelFormat + ")*";
    private const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private const string QualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string LabelValueFormat = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

    [GeneratedRegex("^" + Dns1123LabelFormat + "$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^" + Dns1123SubdomainFormat + "$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^" + Dns1035LabelFormat + "$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex("^" + QualifiedNameFormat + "$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^" + LabelValueFormat + "$")]
    private static partial Regex LabelValue();

    private static string MaxLength(int max) => $"must be no more than {max} characters";

    private static string RegexError(string message, string format, params string[] examples) =>
        $"{message} (e.g. {string.Join(" or ", examples.Select(e => $"'{e}'"))}, regex used for validation is '{format}')";

    public static List<string> IsDns1123Label(string value)
    {
        var errors = new List<string>();
        if (value.Length > Dns1123LabelMax)
        {
            errors.Add(MaxLength(Dns1123LabelMax));
        }

        if (!Dns1123Label().IsMatch(value))
        {
            errors.Add(RegexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", Dns1123LabelFormat, "my-name", "123-abc"));
        }

        return errors;
    }

    public static List<string> IsDns1123Subdomain(string value)
    {
        var errors = new List<string>();
        if (value.Length > Dns1123SubdomainMax)
        {
            errors.Add(MaxLength(Dns1123SubdomainMax));
        }

        if (!Dns1123Subdomain().IsMatch(value))
        {
            errors.Add(RegexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", Dns1123SubdomainFormat, "example.com"));
        }

        return errors;
    }

    public static List<string> IsDns1035Label(string value)
    {
        var errors = new List<string>();
        if (value.Length > Dns1123LabelMax)
        {
            errors.Add(MaxLength(Dns1123LabelMax));
        }

        if (!Dns1035Label().IsMatch(value))
        {
            errors.Add(RegexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", Dns1035LabelFormat, "my-name", "abc-123"));
        }

        return errors;
    }

    /// <summary>RBAC and a few others allow any name that is a valid path segment.</summary>
    public static List<string> IsPathSegmentName(string value)
    {
        if (value is "." or "..")
        {
            return [$"may not be '{value}'"];
        }

        foreach (var illegal in (string[])["/", "%"])
        {
            if (value.Contains(illegal, StringComparison.Ordinal))
            {
                return [$"may not contain '{illegal}'"];
            }
        }

        return [];
    }

    /// <summary>A label or annotation key: an optional DNS subdomain prefix and a name of at most 63 characters.</summary>
    public static List<string> IsQualifiedName(string value)
    {
        var errors = new List<string>();
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                name = parts[1];
                if (parts[0].Length == 0)
                {
                    errors.Add("prefix part must be non-empty");
                }
                else
                {
                    errors.AddRange(IsDns1123Subdomain(parts[0]).Select(e => "prefix part " + e));
                }

                break;
            default:
                return [RegexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QualifiedNameFormat, "MyName", "my.name", "123-abc") + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
        }

        if (name.Length == 0)
        {
            errors.Add("name part must be non-empty");
        }
        else if (name.Length > QualifiedNameMax)
        {
            errors.Add("name part " + MaxLength(QualifiedNameMax));
        }

        if (name.Length > 0 && !QualifiedName().IsMatch(name))
        {
            errors.Add("name part " + RegexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QualifiedNameFormat, "MyName", "my.name", "123-abc"));
        }

        return errors;
    }

    public static List<string> IsValidLabelValue(string value)
    {
        var errors = new List<string>();
        if (value.Length > LabelValueMax)
        {
            errors.Add(MaxLength(LabelValueMax));
        }

        if (!LabelValue().IsMatch(value))
        {
            errors.Add(RegexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LabelValueFormat, "MyValue", "my_value", "12345"));
        }

        return errors;
    }

    /// <summary>
    /// ObjectMeta checks every kind shares: name or generateName, the name's syntax, labels,
    /// annotations, and a namespace only on namespaced kinds.
    /// </summary>
    public static List<FieldError> ValidateObjectMeta(JsonObject metadata, bool namespaced, Func<string, List<string>> nameValidator, FieldPath path)
    {
        var errors = new List<FieldError>();
        var name = metadata["name"]?.ToString();
        var generateName = metadata["generateName"]?.ToString();
        if (string.IsNullOrEmpty(name))
        {
            if (string.IsNullOrEmpty(generateName))
            {
                errors.Add(FieldError.Required(path.Child("name"), "name or generateName is required"));
            }
        }
        else
        {
            errors.AddRange(nameValidator(name).Select(m => FieldError.Invalid(path.Child("name"), name, m)));
        }

        var ns = metadata["namespace"]?.ToString();
        if (namespaced)
        {
            if (string.IsNullOrEmpty(ns))
            {
                errors.Add(FieldError.Required(path.Child("namespace"), string.Empty));
            }
            else
            {
                errors.AddRange(IsDns1123Label(ns).Select(m => FieldError.Invalid(path.Child("namespace"), ns, m)));
            }
        }
        else if (!string.IsNullOrEmpty(ns))
        {
            errors.Add(FieldError.Forbidden(path.Child("namespace"), "not allowed on this type"));
        }

        if (metadata["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                var keyPath = path.Child("labels");
                errors.AddRange(IsQualifiedName(key).Select(m => FieldError.Invalid(keyPath, key, m)));
                var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                if (text is null)
                {
                    errors.Add(FieldError.Invalid(keyPath.Key(key), value, "label values must be strings"));
                    continue;
                }

                errors.AddRange(IsValidLabelValue(text).Select(m => FieldError.Invalid(keyPath, text, m)));
            }
        }
        else if (metadata["labels"] is not null)
        {
            errors.Add(FieldError.Invalid(path.Child("labels"), metadata["labels"], "must be a map of strings"));
        }

        if (metadata["annotations"] is JsonObject annotations)
        {
            var total = 0;
            foreach (var (key, value) in annotations)
            {
                errors.AddRange(IsQualifiedName(key.ToLowerInvariant()).Select(m => FieldError.Invalid(path.Child("annotations"), key, m)));
                total += key.Length + Encoding.UTF8.GetByteCount(value?.ToString() ?? string.Empty);
            }

            if (total > TotalAnnotationSizeLimit)
            {
                errors.Add(FieldError.TooLong(path.Child("annotations"), TotalAnnotationSizeLimit));
            }
        }

        return errors;
    }
}
